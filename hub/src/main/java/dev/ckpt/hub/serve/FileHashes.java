package dev.ckpt.hub.serve;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hashes of plain files as the Hub would report them, memoized by (path, size, mtime): files of at least
 * 10 MiB or with a usual LFS extension are "LFS" (sha256 etag, oid = sha1 of the LFS pointer), the others
 * plain git blobs (oid = etag = git blob sha1). Thread-safe.
 */
final class FileHashes {
    static final long LFS_THRESHOLD_BYTES = 10L << 20;
    private static final Set<String> LFS_EXTENSIONS = Set.of("safetensors", "bin", "pt", "pth", "ckpt", "h5", "gguf",
            "onnx", "msgpack", "model", "pkl", "pickle", "npy", "npz", "zip", "gz", "tar", "tgz", "arrow", "parquet",
            "tflite", "ot", "joblib", "pb", "wasm", "zst", "xz", "7z", "bz2", "ftz", "rar", "mlmodel", "tfevents");

    private record Key(Path path, long size, long mtimeNanos) {
    }

    private final ConcurrentHashMap<Key, ServedFile> memo = new ConcurrentHashMap<>();

    /** The served view of {@code file} at {@code repoPath}. */
    ServedFile describe(String repoPath, Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        Key k = new Key(file.toAbsolutePath(), a.size(), a.lastModifiedTime().toInstant().toEpochMilli() * 1_000_000L
                + a.lastModifiedTime().toInstant().getNano() % 1_000_000L);
        ServedFile cached = memo.get(k);
        if (cached != null && cached.path().equals(repoPath)) {
            return cached;
        }
        ServedFile f = isLfs(repoPath, a.size()) ? lfs(repoPath, file, a.size(), digest("SHA-256", file, null))
                : new ServedFile(repoPath, file, a.size(), digest("SHA-1", file, "blob " + a.size() + "\0"), null);
        memo.put(k, f);
        return f;
    }

    /** A file whose etag is already known (a cache blob): no hashing of the content. */
    static ServedFile known(String repoPath, Path file, long size, String etag) {
        return etag.length() == 64 ? lfs(repoPath, file, size, etag) : new ServedFile(repoPath, file, size, etag, null);
    }

    static boolean isLfs(String repoPath, long size) {
        int dot = repoPath.lastIndexOf('.');
        String ext = dot < 0 ? "" : repoPath.substring(dot + 1).toLowerCase(Locale.ROOT);
        return size >= LFS_THRESHOLD_BYTES || LFS_EXTENSIONS.contains(ext);
    }

    private static ServedFile lfs(String repoPath, Path file, long size, String sha256) {
        String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256 + "\nsize " + size + "\n";
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update(("blob " + pointer.length() + "\0" + pointer).getBytes(StandardCharsets.US_ASCII));
            return new ServedFile(repoPath, file, size, HexFormat.of().formatHex(md.digest()), sha256);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String digest(String algorithm, Path file, String prefix) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            if (prefix != null) {
                md.update(prefix.getBytes(StandardCharsets.US_ASCII));
            }
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

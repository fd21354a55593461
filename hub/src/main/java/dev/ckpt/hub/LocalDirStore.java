package dev.ckpt.hub;

import dev.ckpt.hub.internal.FileFetch;
import dev.ckpt.hub.internal.FileLocks;
import dev.ckpt.hub.internal.Glob;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code --local-dir} mode as huggingface_hub's {@code _local_folder.py} (formats-hub.md A6): plain files at
 * {@code <dir>/<path>}, and {@code <dir>/.cache/huggingface/download/<path>.metadata} holding
 * {@code commit\netag\nunix_time\n}, which says a file is current without hashing it again.
 */
final class LocalDirStore {
    private final Path dir;
    private final Path meta;
    private final HubCache cache;
    private final RepoId repo;

    LocalDirStore(Path dir, HubCache cache, RepoId repo) {
        this.dir = dir;
        this.meta = dir.resolve(".cache").resolve("huggingface");
        this.cache = cache;
        this.repo = repo;
    }

    /** Creates the metadata folder (with its {@code .gitignore} and CACHEDIR.TAG) and the tree cache. */
    void prepare(String commit, List<RepoFile> all) throws IOException {
        Files.createDirectories(meta.resolve("download"));
        if (!Files.exists(meta.resolve(".gitignore"))) {
            Files.writeString(meta.resolve(".gitignore"), "*");
        }
        if (!Files.exists(meta.resolve("CACHEDIR.TAG"))) {
            Files.writeString(meta.resolve("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55\n");
        }
        new HubCache(meta).writeTreeAt(meta.resolve("trees").resolve(commit + ".json"), all);
    }

    FileOutcome fetch(HubClient client, String commit, RepoFile f, FileFetch fetch, FileFetch.Progress progress)
            throws IOException {
        Path target = dir.resolve(HubCache.safeRelative(f.path()));
        Path metaFile = meta.resolve("download").resolve(f.path() + ".metadata");
        Path lockFile = meta.resolve("download").resolve(f.path() + ".lock");
        Files.createDirectories(metaFile.getParent());
        try (FileLocks.Held lock = FileLocks.acquire(lockFile)) {
            Metadata m = Metadata.read(metaFile, target);
            if (Files.isRegularFile(target) && m != null && (m.commit.equals(commit) || m.etag.equals(f.etag()))) {
                writeMetadata(metaFile, commit, m.etag);
                return new FileOutcome(f.path(), f.size(), m.etag, FileOutcome.Status.CACHED, target);
            }
            FileMetadata remote = client.fileMetadata(repo, commit, f.path());
            if (Files.isRegularFile(target) && (m != null ? m.etag.equals(remote.etag())
                    : remote.etag().matches("[0-9a-f]{64}") && sha256(target).equals(remote.etag()))) {
                writeMetadata(metaFile, commit, remote.etag());
                return new FileOutcome(f.path(), remote.size(), remote.etag(), FileOutcome.Status.CACHED, target);
            }
            Files.createDirectories(target.getParent());
            Path blob = cache.blob(repo, remote.etag());
            FileOutcome.Status status;
            if (Files.isRegularFile(blob)) {
                Path tmp = target.resolveSibling(target.getFileName() + ".ckpt-copy.tmp");
                Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
                HubCache.move(tmp, target);
                status = FileOutcome.Status.COPIED;
            } else {
                Path incomplete = meta.resolve("download").resolve(tempName(f.path()) + "." + remote.etag() + ".incomplete");
                fetch.fetch(remote.location(), remote.sendAuth(), remote.size(), remote.etag(), incomplete, f.path(), progress);
                HubCache.move(incomplete, target);
                status = FileOutcome.Status.DOWNLOADED;
            }
            writeMetadata(metaFile, commit, remote.etag());
            return new FileOutcome(f.path(), remote.size(), remote.etag(), status, target);
        }
    }

    /** Offline answer: every file under the dir that has a metadata entry. */
    static DownloadResult fromDisk(Path dir, RepoId repo, String rev, DownloadOptions options, String why, Duration elapsed)
            throws IOException {
        Path download = dir.resolve(".cache/huggingface/download");
        List<FileOutcome> files = new ArrayList<>();
        String commit = null;
        if (Files.isDirectory(download)) {
            try (Stream<Path> s = Files.walk(download)) {
                for (Path p : s.filter(x -> x.toString().endsWith(".metadata")).toList()) {
                    String rel = download.relativize(p).toString().replace('\\', '/');
                    rel = rel.substring(0, rel.length() - ".metadata".length());
                    Path target = dir.resolve(rel);
                    Metadata m = Metadata.read(p, target);
                    if (m != null && Files.isRegularFile(target) && Glob.keep(rel, options.includes(), options.excludes())) {
                        files.add(new FileOutcome(rel, Files.size(target), m.etag, FileOutcome.Status.CACHED, target));
                        commit = m.commit;
                    }
                }
            }
        }
        if (files.isEmpty()) {
            throw new HubException(HubException.Kind.OFFLINE, 0, repo + "@" + rev + " has no downloaded files in " + dir
                    + " and cannot be downloaded: " + why);
        }
        return new DownloadResult(repo, rev, commit, dir, Downloader.sorted(files), 0, elapsed, true);
    }

    private static void writeMetadata(Path metaFile, String commit, String etag) throws IOException {
        String ts = String.format(java.util.Locale.ROOT, "%.6f", System.currentTimeMillis() / 1000.0);
        HubCache.writeAtomically(metaFile, (commit + "\n" + etag + "\n" + ts + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** {@code urlsafe_b64(sha1(basename(<path>.metadata)))}, huggingface_hub's temp-file stem. */
    static String tempName(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1) + ".metadata";
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(base.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A parsed {@code .metadata} file; valid only while the file's mtime is not newer than its timestamp. */
    private record Metadata(String commit, String etag, double timestamp) {
        static Metadata read(Path metaFile, Path target) {
            try {
                if (!Files.isRegularFile(metaFile) || !Files.isRegularFile(target)) {
                    return null;
                }
                List<String> lines = Files.readAllLines(metaFile, StandardCharsets.UTF_8);
                Metadata m = new Metadata(lines.get(0).trim(), lines.get(1).trim(), Double.parseDouble(lines.get(2).trim()));
                double mtime = Files.getLastModifiedTime(target).toMillis() / 1000.0;
                return mtime - 1 <= m.timestamp ? m : null;
            } catch (IOException | RuntimeException e) {
                return null; // unreadable metadata: treat the file as unknown, as huggingface_hub does
            }
        }
    }
}

package dev.ckpt.hub.serve;

import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.RepoType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The repos {@code ckpt serve} exposes, read-only: plain model folders ({@code <models>/org/name/...} or
 * {@code <models>/name/...}, whose one commit is a stable hash of the file list and etags, reachable as
 * {@code main} or by that hash) and huggingface_hub caches ({@code <cache>/models--org--name}, every ref and
 * snapshot). Folders are re-read on each request, so files added later show up. Thread-safe.
 */
public final class ModelStore {
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{40}|[0-9a-f]{64}");
    private final List<Path> modelDirs;
    private final List<Path> cacheDirs;
    private final FileHashes hashes = new FileHashes();

    public ModelStore(List<Path> modelDirs, List<Path> cacheDirs) {
        this.modelDirs = List.copyOf(modelDirs);
        this.cacheDirs = List.copyOf(cacheDirs);
    }

    /**
     * A resolved revision of a repo.
     *
     * @param repo the repository
     * @param commit 40-hex commit
     * @param files every file, sorted by path
     */
    public record Snapshot(RepoId repo, String commit, List<ServedFile> files) {
        public Optional<ServedFile> file(String path) {
            return files.stream().filter(f -> f.path().equals(path)).findFirst();
        }
    }

    /** Why a lookup failed: the Hub's {@code X-Error-Code}. */
    public static final class NotFound extends Exception {
        private static final long serialVersionUID = 1L;
        private final String errorCode;

        NotFound(String errorCode, String message) {
            super(message, null, false, false);
            this.errorCode = errorCode;
        }

        /** {@code RepoNotFound}, {@code RevisionNotFound} or {@code EntryNotFound}. */
        public String errorCode() {
            return errorCode;
        }
    }

    /** Resolves {@code revision} of {@code repo}, or throws NotFound (RepoNotFound / RevisionNotFound). */
    public Snapshot snapshot(RepoId repo, String revision) throws NotFound, IOException {
        if (repo.type() == RepoType.MODEL) {
            for (Path dir : modelDirs) {
                Path folder = dir.resolve(repo.id());
                if (Files.isDirectory(folder) && !repo.id().startsWith(".")) {
                    return plainFolder(repo, folder, revision);
                }
            }
        }
        for (Path cache : cacheDirs) {
            Path folder = cache.resolve(repo.folderName());
            if (Files.isDirectory(folder.resolve("snapshots"))) {
                return cached(repo, folder, revision);
            }
        }
        throw new NotFound("RepoNotFound", "Repository Not Found for url: " + repo);
    }

    private Snapshot plainFolder(RepoId repo, Path folder, String revision) throws IOException, NotFound {
        List<ServedFile> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String rel = folder.relativize(p).toString().replace('\\', '/');
                if (hiddenDir(rel)) {
                    continue;
                }
                files.add(hashes.describe(rel, p));
            }
        }
        files.sort(Comparator.comparing(ServedFile::path));
        String commit = commitOf(files);
        if (!revision.equals("main") && !revision.equals(commit)) {
            throw new NotFound("RevisionNotFound", "Invalid rev id: " + revision);
        }
        return new Snapshot(repo, commit, List.copyOf(files));
    }

    private Snapshot cached(RepoId repo, Path folder, String revision) throws IOException, NotFound {
        String commit = revision;
        if (!Files.isDirectory(folder.resolve("snapshots").resolve(revision)) || !revision.matches("[0-9a-f]{40}")) {
            Path ref = folder.resolve("refs").resolve(revision).normalize();
            if (!ref.startsWith(folder.resolve("refs")) || !Files.isRegularFile(ref)) {
                throw new NotFound("RevisionNotFound", "Invalid rev id: " + revision);
            }
            commit = Files.readString(ref, StandardCharsets.UTF_8).trim();
        }
        Path snap = folder.resolve("snapshots").resolve(commit);
        if (!commit.matches("[0-9a-f]{40}") || !Files.isDirectory(snap)) {
            throw new NotFound("RevisionNotFound", "Invalid rev id: " + revision);
        }
        List<ServedFile> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(snap)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String rel = snap.relativize(p).toString().replace('\\', '/');
                String etag = Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).getFileName().toString() : "";
                files.add(HEX.matcher(etag).matches() ? FileHashes.known(rel, p, Files.size(p), etag) : hashes.describe(rel, p));
            }
        }
        files.sort(Comparator.comparing(ServedFile::path));
        return new Snapshot(repo, commit, List.copyOf(files));
    }

    private static boolean hiddenDir(String rel) {
        int slash = rel.lastIndexOf('/');
        if (slash < 0) {
            return false;
        }
        for (String seg : rel.substring(0, slash).split("/")) {
            if (seg.startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** sha1 over "path\0etag\n" of every file: stable while the folder's content is unchanged. */
    static String commitOf(List<ServedFile> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-1");
            md.update("ckpt-serve-commit 1\n".getBytes(StandardCharsets.UTF_8));
            for (ServedFile f : files) {
                md.update((f.path() + "\0" + f.etag() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.ckpt.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.hub.internal.FileLocks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The huggingface_hub cache layout (formats-hub.md A4): {@code <root>/<type>s--org--name/{blobs,refs,snapshots,trees}},
 * blobs named by etag, relative symlinks from snapshots to blobs, {@code refs/<rev>} holding the commit with no
 * newline, and {@code .locks/<repo folder>/<etag>.lock}. Thread-safe; all writes are atomic renames.
 */
public final class HubCache {
    /** A 40-hex git commit id. */
    public static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final String CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n"
            + "# This file is a cache directory tag created by huggingface_hub (written by ckpt).\n"
            + "# For information about cache directory tags, see: https://bford.info/cachedir/\n";

    private final Path root;
    private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoDir(RepoId repo) {
        return root.resolve(repo.folderName());
    }

    /** {@code blobs/<etag>}. */
    public Path blob(RepoId repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(checkName(etag));
    }

    public Path snapshotDir(RepoId repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(checkName(commit));
    }

    /** {@code snapshots/<commit>/<path>}, after rejecting paths that would leave the snapshot. */
    public Path pointer(RepoId repo, String commit, String path) {
        return snapshotDir(repo, commit).resolve(safeRelative(path));
    }

    /** The commit a revision points to: the revision itself when it is a commit, else {@code refs/<rev>}. */
    public Optional<String> readRef(RepoId repo, String revision) throws IOException {
        if (COMMIT.matcher(revision).matches()) {
            return Optional.of(revision);
        }
        Path ref = repoDir(repo).resolve("refs").resolve(safeRelative(revision));
        if (!Files.isRegularFile(ref)) {
            return Optional.empty();
        }
        String c = Files.readString(ref, StandardCharsets.UTF_8);
        return COMMIT.matcher(c).matches() ? Optional.of(c) : Optional.empty();
    }

    /** Writes {@code refs/<rev>} = commit (no newline), atomically and only when it changed. */
    public void writeRef(RepoId repo, String revision, String commit) throws IOException {
        if (revision.equals(commit)) {
            return;
        }
        Path ref = repoDir(repo).resolve("refs").resolve(safeRelative(revision));
        if (Files.isRegularFile(ref) && Files.readString(ref, StandardCharsets.UTF_8).equals(commit)) {
            return;
        }
        writeAtomically(ref, commit.getBytes(StandardCharsets.US_ASCII));
    }

    /** Creates the repo's folders and the cache's CACHEDIR.TAG. */
    public void prepare(RepoId repo) throws IOException {
        Files.createDirectories(repoDir(repo).resolve("blobs"));
        Files.createDirectories(repoDir(repo).resolve("snapshots"));
        Path tag = root.resolve("CACHEDIR.TAG");
        if (!Files.exists(tag)) {
            try {
                Files.writeString(tag, CACHEDIR_TAG, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException ignored) {
                // another process created it first: fine
            }
        }
    }

    /** Makes {@code snapshots/<commit>/<path>} a relative symlink to {@code blobs/<etag>} (copy if symlinks fail). */
    public void link(RepoId repo, String commit, String path, String etag) throws IOException {
        Path pointer = pointer(repo, commit, path);
        Path blob = blob(repo, etag);
        Files.createDirectories(pointer.getParent());
        if (Files.exists(pointer, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.exists(pointer)) {
                return;
            }
            Files.delete(pointer); // dangling link left by a removed blob
        }
        Path rel = pointer.getParent().relativize(blob);
        Path tmp = pointer.resolveSibling(pointer.getFileName() + "." + randomHex() + ".tmp");
        try {
            Files.createSymbolicLink(tmp, rel);
        } catch (UnsupportedOperationException | IOException e) {
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        move(tmp, pointer);
    }

    /** Holds {@code .locks/<repo folder>/<etag>.lock} until closed. */
    public FileLocks.Held lock(RepoId repo, String etag) throws IOException {
        return FileLocks.acquire(root.resolve(".locks").resolve(repo.folderName()).resolve(checkName(etag) + ".lock"));
    }

    /** Writes {@code trees/<commit>.json} as huggingface_hub >= 1.22 does (format_version 1, files sorted). */
    public void writeTree(RepoId repo, String commit, List<RepoFile> files) throws IOException {
        writeTreeAt(repoDir(repo).resolve("trees").resolve(checkName(commit) + ".json"), files);
    }

    /** Writes a tree listing in the {@code trees/<commit>.json} format to {@code target}. */
    public void writeTreeAt(Path target, List<RepoFile> files) throws IOException {
        ObjectNode top = json.createObjectNode();
        top.put("format_version", 1);
        ObjectNode map = top.putObject("files");
        files.stream().sorted(Comparator.comparing(RepoFile::path)).forEach(f -> {
            ObjectNode e = map.putObject(f.path());
            e.put("size", f.size());
            e.put("blob_id", f.blobId());
            if (f.isLfs()) {
                e.put("lfs_sha256", f.lfsSha256());
                e.put("lfs_size", f.size());
            }
        });
        writeAtomically(target, json.writeValueAsBytes(top));
    }

    /** Reads {@code trees/<commit>.json}, or empty when absent or not format_version 1. */
    public Optional<List<RepoFile>> readTree(RepoId repo, String commit) throws IOException {
        Path p = repoDir(repo).resolve("trees").resolve(checkName(commit) + ".json");
        if (!Files.isRegularFile(p)) {
            return Optional.empty();
        }
        JsonNode top;
        try {
            top = json.readTree(p.toFile());
        } catch (IOException e) {
            return Optional.empty(); // a corrupt tree cache is ignored, as huggingface_hub does
        }
        if (top.path("format_version").asInt() != 1 || !top.path("files").isObject()) {
            return Optional.empty();
        }
        List<RepoFile> files = new ArrayList<>();
        top.get("files").properties().forEach(e -> files.add(new RepoFile(e.getKey(), e.getValue().path("size").asLong(),
                e.getValue().path("blob_id").asText(null), e.getValue().path("lfs_sha256").asText(null))));
        return Optional.of(files);
    }

    /**
     * Rejects repo paths that could escape their folder: '..' segments, absolute paths, drive letters
     * (backslashes read as '/'), as huggingface_hub's {@code _validate_relative_filename}; and, beyond it, names
     * no file system or terminal should get from a server: control characters (a newline or an escape sequence
     * in a file name rewrites what the user's terminal shows) and segments over 255 bytes (the Linux limit).
     *
     * @throws IllegalArgumentException naming the path with its control characters shown as '?'
     */
    public static String safeRelative(String path) {
        String p = path.replace('\\', '/');
        String why = null;
        if (p.isEmpty() || p.startsWith("/") || p.matches("^[A-Za-z]:.*")) {
            why = "not a relative path";
        } else if (p.codePoints().anyMatch(Character::isISOControl)) {
            why = "control characters";
        } else {
            for (String seg : p.split("/", -1)) {
                if (seg.equals("..") || seg.equals(".")) {
                    why = "a '" + seg + "' segment";
                } else if (seg.getBytes(StandardCharsets.UTF_8).length > 255) {
                    why = "a name over 255 bytes";
                }
            }
        }
        if (why != null) {
            StringBuilder shown = new StringBuilder();
            path.codePoints().limit(120).forEach(c -> shown.appendCodePoint(Character.isISOControl(c) ? '?' : c));
            throw new IllegalArgumentException("unsafe file name '" + shown + (path.length() > 120 ? "...'" : "'")
                    + " (" + why + ")");
        }
        return p;
    }

    /** Writes bytes to a sibling temp file and renames it over {@code target}. */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Files.createDirectories(target.getParent());
        Path tmp = target.resolveSibling(target.getFileName() + "." + randomHex() + ".tmp");
        try {
            Files.write(tmp, bytes);
            move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Atomic rename, replacing the target (plain rename where atomic moves are unsupported). */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static String randomHex() {
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static String checkName(String name) {
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals("..") || name.equals(".")) {
            throw new IllegalArgumentException("refusing unsafe etag or commit from the server: '" + name + "'");
        }
        return name;
    }
}

package dev.ckpt.hub;

import java.nio.file.Path;

/**
 * How one file ended up on disk.
 *
 * @param path repo path
 * @param size bytes
 * @param etag blob name (sha256 or git sha1)
 * @param status what had to be done
 * @param location the file as the caller should open it (snapshot pointer or local-dir file)
 */
public record FileOutcome(String path, long size, String etag, Status status, Path location) {
    /** What happened to a file. */
    public enum Status {
        /** Bytes came over the network (possibly resuming an earlier run). */
        DOWNLOADED,
        /** Already present; nothing transferred. */
        CACHED,
        /** Copied from the cache into a local dir. */
        COPIED
    }
}

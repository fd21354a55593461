package dev.ckpt.hub;

import java.util.List;

/**
 * Progress callbacks of a {@link Downloader}. Called from several download threads at once: implementations
 * must be thread-safe and fast. Texts passed in never contain tokens or URL query strings.
 */
public interface DownloadListener {
    /** Does nothing. */
    DownloadListener NONE = new DownloadListener() {
    };

    /** The file set is known (after filtering). */
    default void planned(String commit, List<RepoFile> files) {
    }

    /** Bytes of {@code path} found on disk from an earlier, interrupted run. */
    default void resumed(String path, long bytes) {
    }

    /** New bytes of {@code path} arrived; negative when a bad attempt was discarded. */
    default void transferred(String path, long bytes) {
    }

    /** {@code path} is in place. */
    default void finished(FileOutcome outcome) {
    }

    /** A transient failure is being retried. */
    default void retrying(String path, String reason) {
    }
}

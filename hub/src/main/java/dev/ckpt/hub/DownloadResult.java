package dev.ckpt.hub;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of a snapshot download.
 *
 * @param repo repository
 * @param revision revision asked for
 * @param commit commit it resolved to
 * @param root the snapshot folder, or the local dir
 * @param files every kept file
 * @param downloadedBytes bytes transferred in this run
 * @param elapsed wall time
 * @param fromCacheOnly true when the Hub was not consulted (offline, or it failed and the cache answered)
 */
public record DownloadResult(RepoId repo, String revision, String commit, Path root, List<FileOutcome> files,
        long downloadedBytes, Duration elapsed, boolean fromCacheOnly) {
    public DownloadResult {
        files = List.copyOf(files);
    }

    /** Sum of the sizes of all files. */
    public long totalBytes() {
        return files.stream().mapToLong(FileOutcome::size).sum();
    }
}

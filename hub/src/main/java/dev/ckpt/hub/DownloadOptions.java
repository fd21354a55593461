package dev.ckpt.hub;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What to download and how hard to push.
 *
 * @param revision branch, tag or commit; null means {@code main}
 * @param includes fnmatch patterns; empty keeps every file
 * @param excludes fnmatch patterns
 * @param localDir plain-file destination ({@code --local-dir}), or null for the cache
 * @param jobs files downloaded at once
 * @param connectionsPerFile concurrent range requests for one large file (1 = no splitting)
 * @param chunkBytes range size when splitting; files under twice this size use one connection
 */
public record DownloadOptions(String revision, List<String> includes, List<String> excludes, Path localDir, int jobs,
        int connectionsPerFile, long chunkBytes) {
    /** Default range size: 32 MiB. */
    public static final long DEFAULT_CHUNK_BYTES = 32L << 20;

    public DownloadOptions {
        includes = List.copyOf(Objects.requireNonNull(includes, "includes"));
        excludes = List.copyOf(Objects.requireNonNull(excludes, "excludes"));
        if (jobs < 1 || connectionsPerFile < 1 || chunkBytes < 1) {
            throw new IllegalArgumentException("jobs, connectionsPerFile and chunkBytes must be >= 1");
        }
    }

    /** main, every file, cache, 8 files at once, 8 connections per large file, 32 MiB ranges. */
    public static DownloadOptions defaults() {
        return new DownloadOptions(null, List.of(), List.of(), null, 8, 8, DEFAULT_CHUNK_BYTES);
    }

    public String revisionOrMain() {
        return revision == null ? "main" : revision;
    }

    public DownloadOptions withRevision(String rev) {
        return new DownloadOptions(rev, includes, excludes, localDir, jobs, connectionsPerFile, chunkBytes);
    }

    public DownloadOptions withFilters(List<String> include, List<String> exclude) {
        return new DownloadOptions(revision, include, exclude, localDir, jobs, connectionsPerFile, chunkBytes);
    }

    public DownloadOptions withLocalDir(Path dir) {
        return new DownloadOptions(revision, includes, excludes, dir, jobs, connectionsPerFile, chunkBytes);
    }

    public DownloadOptions withParallelism(int files, int connections, long chunk) {
        return new DownloadOptions(revision, includes, excludes, localDir, files, connections, chunk);
    }
}

package dev.ckpt.hub;

import dev.ckpt.hub.HubException.Kind;
import dev.ckpt.hub.internal.FileFetch;
import dev.ckpt.hub.internal.FileLocks;
import dev.ckpt.hub.internal.Glob;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Downloads repo snapshots into the huggingface_hub cache (or a local dir) the way {@code snapshot_download}
 * does (formats-hub.md A3): revision -> commit, tree listing, include/exclude filters, {@code refs/<rev>}, then
 * every file in parallel through {@link FileFetch} (ranged, resumable, hash-checked) under the per-blob lock.
 * Offline (HF_HUB_OFFLINE) and on network/5xx failures it answers from the cache when it can.
 * One instance may serve concurrent calls.
 */
public final class Downloader {
    private final HubClient client;
    private final HubCache cache;

    public Downloader(HubClient client) {
        this.client = client;
        this.cache = new HubCache(client.config().cacheDir());
    }

    public HubCache cache() {
        return cache;
    }

    /**
     * Makes every (filtered) file of {@code repo} at {@code options.revision()} present locally.
     *
     * @throws HubException on Hub/network failures that the cache cannot answer (exit code 4)
     * @throws IOException on local disk failures
     */
    public DownloadResult download(RepoId repo, DownloadOptions options, DownloadListener listener) throws IOException {
        long t0 = System.nanoTime();
        String rev = options.revisionOrMain();
        if (client.config().offline()) {
            return fromCache(repo, options, t0, null);
        }
        if (options.localDir() == null && HubCache.COMMIT.matcher(rev).matches()) {
            Optional<List<RepoFile>> tree = cache.readTree(repo, rev);
            if (tree.isPresent() && allPresent(repo, rev, filter(tree.get(), options))) {
                return fromCache(repo, options, t0, null); // a commit fully in the cache: no request at all
            }
        }
        String commit;
        List<RepoFile> all;
        try {
            commit = HubCache.COMMIT.matcher(rev).matches() ? rev : client.resolveCommit(repo, rev);
            all = client.listFiles(repo, commit);
        } catch (HubException e) {
            if (e.cacheMayAnswer()) {
                return fromCache(repo, options, t0, e);
            }
            throw e;
        }
        List<RepoFile> files = filter(all, options);
        for (RepoFile f : files) {
            try {
                HubCache.safeRelative(f.path());
            } catch (IllegalArgumentException e) {
                throw new HubException(HubException.Kind.BAD_RESPONSE, 0, "the server lists an " + e.getMessage()
                        + " in " + repo + "; refusing to write it (nothing was downloaded)");
            }
        }
        listener.planned(commit, files);
        LocalDirStore local = options.localDir() == null ? null : new LocalDirStore(options.localDir(), cache, repo);
        if (local == null) {
            cache.prepare(repo);
            cache.writeRef(repo, rev, commit);
            cache.writeTree(repo, commit, all);
        } else {
            local.prepare(commit, all);
        }
        FileFetch fetch = new FileFetch(client, new FileFetch.Tuning(options.chunkBytes(), options.connectionsPerFile(),
                client.config().retryBaseDelay(), client.config().maxRetries()),
                new Semaphore(Math.max(options.jobs(), options.connectionsPerFile()) * 2));
        AtomicLong downloaded = new AtomicLong();
        List<FileOutcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        List<IOException> failures = Collections.synchronizedList(new ArrayList<>());
        Semaphore fileSlots = new Semaphore(options.jobs());
        List<Thread> threads = new ArrayList<>();
        for (RepoFile f : files) {
            acquire(fileSlots);
            threads.add(Thread.ofVirtual().name("ckpt-file-" + f.path()).start(() -> {
                try {
                    FileFetch.Progress p = progress(f.path(), listener, downloaded);
                    FileOutcome o = local == null ? toCache(repo, commit, f, fetch, p) : local.fetch(client, commit, f, fetch, p);
                    outcomes.add(o);
                    listener.finished(o);
                } catch (IOException e) {
                    failures.add(e);
                } catch (RuntimeException e) {
                    failures.add(new IOException(f.path() + ": " + e.getMessage(), e));
                } finally {
                    fileSlots.release();
                }
            }));
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                threads.forEach(Thread::interrupt);
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("download interrupted");
            }
        }
        if (!failures.isEmpty()) {
            IOException first = failures.getFirst();
            if (failures.size() == 1) {
                throw first;
            }
            String msg = first.getMessage() + " (and " + (failures.size() - 1) + " more failed files of " + files.size() + ")";
            throw first instanceof HubException he ? new HubException(he.kind(), he.httpStatus(), msg) : new IOException(msg, first);
        }
        Path root = local == null ? cache.snapshotDir(repo, commit) : options.localDir();
        if (local == null) {
            Files.createDirectories(root);
        }
        return new DownloadResult(repo, rev, commit, root, sorted(outcomes), downloaded.get(), elapsed(t0), false);
    }

    private FileOutcome toCache(RepoId repo, String commit, RepoFile f, FileFetch fetch, FileFetch.Progress p)
            throws IOException {
        Path pointer = cache.pointer(repo, commit, f.path());
        if (Files.exists(pointer)) {
            return new FileOutcome(f.path(), f.size(), f.etag(), FileOutcome.Status.CACHED, pointer);
        }
        if (f.etag() != null && Files.exists(cache.blob(repo, f.etag()))) {
            try (FileLocks.Held lock = cache.lock(repo, f.etag())) {
                cache.link(repo, commit, f.path(), f.etag());
            }
            return new FileOutcome(f.path(), f.size(), f.etag(), FileOutcome.Status.CACHED, pointer);
        }
        FileMetadata meta = client.fileMetadata(repo, commit, f.path());
        Path blob = cache.blob(repo, meta.etag());
        FileOutcome.Status status = FileOutcome.Status.CACHED;
        try (FileLocks.Held lock = cache.lock(repo, meta.etag())) {
            if (!Files.exists(blob)) {
                Path incomplete = blob.resolveSibling(meta.etag() + ".incomplete");
                fetch.fetch(meta.location(), meta.sendAuth(), meta.size(), meta.etag(), incomplete, f.path(), p);
                HubCache.move(incomplete, blob);
                status = FileOutcome.Status.DOWNLOADED;
            }
            cache.link(repo, commit, f.path(), meta.etag());
        }
        return new FileOutcome(f.path(), meta.size(), meta.etag(), status, pointer);
    }

    /**
     * Answers from the cache alone: {@code refs/<rev>} (or the commit), {@code snapshots/<commit>}, and, when
     * {@code trees/<commit>.json} is cached, a check that every wanted file is there.
     *
     * @param cause the network failure that sent us here, or null when offline by choice
     */
    private DownloadResult fromCache(RepoId repo, DownloadOptions options, long t0, HubException cause) throws IOException {
        String rev = options.revisionOrMain();
        String why = cause == null ? "offline mode (--offline / HF_HUB_OFFLINE)" : cause.getMessage();
        if (options.localDir() != null) {
            return LocalDirStore.fromDisk(options.localDir(), repo, rev, options, why, elapsed(t0));
        }
        Optional<String> commit = cache.readRef(repo, rev);
        if (commit.isEmpty() || !Files.isDirectory(cache.snapshotDir(repo, commit.get()))) {
            if (cause != null && !cause.cacheMayAnswer()) {
                throw cause;
            }
            throw new HubException(cause == null ? Kind.OFFLINE : cause.kind(), cause == null ? 0 : cause.httpStatus(),
                    repo + "@" + rev + " is not in the cache at " + cache.root() + " and cannot be downloaded: " + why);
        }
        Path snap = cache.snapshotDir(repo, commit.get());
        Optional<List<RepoFile>> tree = cache.readTree(repo, commit.get());
        List<FileOutcome> outcomes = new ArrayList<>();
        if (tree.isPresent()) {
            for (RepoFile f : filter(tree.get(), options)) {
                Path p = cache.pointer(repo, commit.get(), f.path());
                if (!Files.exists(p)) {
                    throw new HubException(cause == null ? Kind.OFFLINE : cause.kind(), 0, "the cached snapshot of " + repo
                            + "@" + rev + " lacks " + f.path() + " and it cannot be downloaded: " + why);
                }
                outcomes.add(new FileOutcome(f.path(), f.size(), f.etag(), FileOutcome.Status.CACHED, p));
            }
        } else {
            try (Stream<Path> s = Files.walk(snap)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    String rel = snap.relativize(p).toString().replace('\\', '/');
                    if (Glob.keep(rel, options.includes(), options.excludes())) {
                        outcomes.add(new FileOutcome(rel, Files.size(p), null, FileOutcome.Status.CACHED, p));
                    }
                }
            }
        }
        return new DownloadResult(repo, rev, commit.get(), snap, sorted(outcomes), 0, elapsed(t0), true);
    }

    private boolean allPresent(RepoId repo, String commit, List<RepoFile> files) {
        return files.stream().allMatch(f -> Files.exists(cache.pointer(repo, commit, f.path())));
    }

    static List<RepoFile> filter(List<RepoFile> files, DownloadOptions o) {
        return files.stream().filter(f -> Glob.keep(f.path(), o.includes(), o.excludes())).toList();
    }

    private static FileFetch.Progress progress(String path, DownloadListener l, AtomicLong downloaded) {
        return new FileFetch.Progress() {
            @Override
            public void resumed(long bytes) {
                l.resumed(path, bytes);
            }

            @Override
            public void transferred(long bytes) {
                downloaded.addAndGet(bytes);
                l.transferred(path, bytes);
            }

            @Override
            public void retrying(String reason) {
                l.retrying(path, reason);
            }
        };
    }

    static List<FileOutcome> sorted(List<FileOutcome> o) {
        List<FileOutcome> copy = new ArrayList<>(o);
        copy.sort(java.util.Comparator.comparing(FileOutcome::path));
        return copy;
    }

    static Duration elapsed(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static void acquire(Semaphore s) throws InterruptedIOException {
        try {
            s.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("download interrupted");
        }
    }
}

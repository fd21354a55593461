package dev.ckpt.hub.internal;

import dev.ckpt.hub.HubClient;
import dev.ckpt.hub.HubException;
import dev.ckpt.hub.HubException.Kind;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Downloads one file into its {@code .incomplete} path: resumes what earlier runs left (sidecar or length),
 * splits the rest into ranges fetched on up to {@code connectionsPerFile} connections (hf_transfer's design),
 * retries each range from where it stopped (resets, stalls, 5xx, 429 with Retry-After), restarts on 416 or
 * a server that ignores Range, and hashes the bytes (sha256 / git sha1 from the etag) while they arrive.
 * Memory is bounded: three 1 MiB direct buffers per connection (one receiving, the others being hashed) plus one
 * for hashing bytes read back from the file.
 */
public final class FileFetch {
    private static final int BUFFER_BYTES = 1 << 20;
    private static final int BUFFERS_PER_CONNECTION = 3;

    /**
     * Tuning knobs.
     *
     * @param chunkBytes range size when splitting; files smaller than twice this are fetched on one connection
     * @param connectionsPerFile concurrent range requests per file (1 disables splitting)
     * @param retryBaseDelay first back-off wait
     * @param maxRetries failures in a row without new bytes before a range gives up
     */
    public record Tuning(long chunkBytes, int connectionsPerFile, Duration retryBaseDelay, int maxRetries) {
    }

    /** Receives byte counts; called from download threads. */
    public interface Progress {
        /** Bytes found on disk from an earlier run. */
        void resumed(long bytes);

        /** New bytes written (negative when a failed attempt is discarded). */
        void transferred(long bytes);

        /** A retry is about to happen (reason has no token or query string). */
        void retrying(String reason);
    }

    private final HubClient client;
    private final Tuning tuning;
    private final Semaphore connections;

    /** @param connections global cap on concurrent HTTP bodies, shared by all files */
    public FileFetch(HubClient client, Tuning tuning, Semaphore connections) {
        this.client = client;
        this.tuning = tuning;
        this.connections = connections;
    }

    /**
     * Fetches {@code url} into {@code incomplete} until it holds exactly {@code size} bytes matching {@code etag}.
     * On a hash mismatch the file is deleted and fetched once more; a second mismatch throws INTEGRITY and
     * leaves nothing behind.
     */
    public void fetch(String url, boolean sendAuth, long size, String etag, Path incomplete, String displayName,
            Progress progress) throws IOException {
        boolean split = tuning.connectionsPerFile() > 1 && size >= 2 * tuning.chunkBytes();
        for (int attempt = 1; ; attempt++) {
            String actual;
            try {
                actual = fetchOnce(url, sendAuth, size, etag, incomplete, displayName, progress, split);
            } catch (RestartException e) {
                if (attempt >= 3) {
                    throw new HubException(Kind.BAD_RESPONSE, 0, displayName + ": " + e.getMessage() + ", again after a restart");
                }
                progress.retrying(displayName + ": " + e.getMessage() + "; restarting from byte 0");
                progress.transferred(-discard(incomplete));
                split = split && !e.rangesUnsupported;
                continue;
            }
            ContentHash expected = ContentHash.forEtag(etag, size);
            if (expected == null || actual.equals(etag)) {
                Files.deleteIfExists(Parts.sidecarOf(incomplete));
                return;
            }
            long dropped = discard(incomplete);
            if (attempt >= 2) {
                throw new HubException(Kind.INTEGRITY, 0, displayName + ": " + expected.name() + " mismatch after "
                        + attempt + " attempts (expected " + etag + ", got " + actual + " from " + Urls.printable(url)
                        + "); the bytes were discarded, nothing was kept");
            }
            progress.transferred(-dropped);
            progress.retrying(displayName + ": " + expected.name() + " mismatch (got " + actual + "); downloading again");
        }
    }

    private static long discard(Path incomplete) throws IOException {
        long n = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        Files.deleteIfExists(incomplete);
        Files.deleteIfExists(Parts.sidecarOf(incomplete));
        return n;
    }

    /** One pass; returns the hex digest of the complete file (or "" when the etag promises no hash). */
    private String fetchOnce(String url, boolean sendAuth, long size, String etag, Path incomplete, String name,
            Progress progress, boolean split) throws IOException {
        Files.createDirectories(incomplete.getParent());
        Parts parts = Parts.load(incomplete, size, split ? tuning.chunkBytes() : 0);
        if (parts.doneBytes() > 0) {
            progress.resumed(parts.doneBytes());
        }
        try (FileChannel ch = FileChannel.open(incomplete, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            if (parts.segments().size() > 1) {
                parts.persist(); // before any byte lands beyond the prefix, so a crash can resume exactly
            }
            ConcurrentLinkedQueue<Parts.Segment> queue = new ConcurrentLinkedQueue<>();
            parts.segments().stream().filter(s -> !s.complete()).forEach(queue::add);
            ContentHash hash = ContentHash.forEtag(etag, size);
            // the network threads write; this thread hashes the contiguous prefix as it grows (pipelined)
            fetchRanges(url, sendAuth, size, parts, ch, progress, name, queue, hash, split);
            if (ch.size() != size) {
                ch.truncate(size);
            }
            return hash == null ? "" : hash.hex();
        }
    }

    /** Segments on up to connectionsPerFile threads (one when not splitting); this thread hashes the growing prefix. */
    private void fetchRanges(String url, boolean sendAuth, long size, Parts parts, FileChannel ch, Progress progress,
            String name, ConcurrentLinkedQueue<Parts.Segment> queue, ContentHash hash, boolean split) throws IOException {
        int workers = Math.max(1, Math.min(split ? tuning.connectionsPerFile() : 1, queue.size()));
        AtomicReference<IOException> failure = new AtomicReference<>();
        PrefixHasher hasher = new PrefixHasher(hash, ch, parts);
        // Cleartext bodies block in SocketChannel reads, which an interrupt aborts on platform threads too, and
        // platform threads skip the virtual-thread poller round trip per read. OkHttp's sockets only honour an
        // interrupt on virtual threads, so those stay virtual (a failure elsewhere then ends them at once).
        Thread.Builder builder = PlainHttp.usable(url) ? Thread.ofPlatform().daemon() : Thread.ofVirtual();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            threads.add(builder.name("ckpt-range-" + name + "-" + i).start(() -> {
                BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS_PER_CONNECTION);
                for (int b = 0; b < BUFFERS_PER_CONNECTION; b++) {
                    free.add(ByteBuffer.allocateDirect(BUFFER_BYTES));
                }
                Parts.Segment s;
                while (failure.get() == null && (s = queue.poll()) != null) {
                    try {
                        fetchSegment(url, sendAuth, size, s, parts, ch, progress, name, hasher, free);
                    } catch (IOException e) {
                        failure.compareAndSet(null, e);
                    }
                }
            }));
        }
        boolean followed = false;
        try {
            hasher.follow(() -> threads.stream().noneMatch(Thread::isAlive), () -> failure.get() != null);
            followed = true;
        } finally {
            for (Thread t : threads) {
                if (failure.get() != null || !followed) {
                    t.interrupt(); // a worker may wait for a buffer that only the hashing thread gives back
                }
                joinQuietly(t);
            }
            if (!parts.complete()) {
                parts.persist();
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Fetches one segment to completion, resuming from the last written byte after failures. */
    private void fetchSegment(String url, boolean sendAuth, long size, Parts.Segment s, Parts parts, FileChannel ch,
            Progress progress, String name, PrefixHasher hasher, BlockingQueue<ByteBuffer> free) throws IOException {
        Backoff backoff = new Backoff(tuning.retryBaseDelay(), tuning.maxRetries());
        while (!s.complete()) {
            long from = s.start() + s.done();
            boolean whole = from == 0 && s.end() == size;
            try {
                acquire();
                try (BodyResponse r = client.openBody(url, sendAuth, from, whole ? -1 : s.end() - 1)) {
                    int code = r.code();
                    if (code == 416) {
                        throw new RestartException("the server refused the resume range (HTTP 416)", false);
                    }
                    if (code == 200 && !whole) {
                        throw new RestartException("the server ignores Range requests", true);
                    }
                    if (code != 200 && code != 206) {
                        if (HubErrors.retryable(code) && backoff.sleep(HubErrors.retryAfter(r::header))) {
                            progress.retrying(name + ": HTTP " + code + ", retrying");
                            continue;
                        }
                        throw new HubException(code == 429 ? Kind.RATE_LIMITED : Kind.SERVER, code, name + ": HTTP " + code
                                + " from " + Urls.printable(r.url()) + " after "
                                + backoff.failures() + " retries");
                    }
                    if (code == 206 && !contentRangeStartsAt(r.header("Content-Range"), from)) {
                        throw new RestartException("the server answered a different range than asked", true);
                    }
                    copyBody(r, s, parts, ch, progress, backoff, size, hasher, free);
                } finally {
                    connections.release();
                }
            } catch (HubException | RestartException e) {
                throw e;
            } catch (InterruptedIOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                retryOrThrow(backoff, e, name, progress, parts);
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedIOException("interrupted");
                }
                retryOrThrow(backoff, e, name, progress, parts);
            }
        }
    }

    /**
     * Copies a response body into segment {@code s} in whole buffers (one positional write per MiB), keeping bytes
     * that arrived before a failure; a buffer that continues the written prefix goes to the hasher, else it is reused.
     */
    private static void copyBody(BodyResponse in, Parts.Segment s, Parts parts, FileChannel ch, Progress progress,
            Backoff backoff, long size, PrefixHasher hasher, BlockingQueue<ByteBuffer> free) throws IOException {
        ByteBuffer buf = take(free);
        try {
            while (!s.complete()) {
                buf.clear().limit((int) Math.min(buf.capacity(), s.length() - s.done()));
                IOException broken = null;
                boolean eof = false;
                while (buf.hasRemaining()) {
                    try {
                        if (in.read(buf) < 0) {
                            eof = true;
                            break;
                        }
                    } catch (IOException e) {
                        broken = e; // keep what arrived before the failure
                        break;
                    }
                }
                buf.flip();
                int n = buf.remaining();
                if (n > 0) {
                    long at = s.start() + s.done();
                    ByteBuffer w = buf.duplicate();
                    while (w.hasRemaining()) {
                        ch.write(w, at + w.position());
                    }
                    if (hasher.offer(at, buf, free)) {
                        buf = null; // the hasher gives it back to `free` once hashed
                    }
                    parts.advance(s, n);
                    progress.transferred(n);
                    backoff.reset();
                    parts.persistEverySecond();
                    if (buf == null) {
                        buf = take(free);
                    }
                }
                if (broken != null) {
                    throw broken;
                }
                if (eof && !s.complete()) {
                    throw new EOFException("connection closed after " + (s.start() + s.done()) + " of " + size + " bytes");
                }
            }
        } finally {
            if (buf != null) {
                free.offer(buf);
            }
        }
    }

    /** The next free buffer of this connection (waits while the hasher still holds all of them). */
    private static ByteBuffer take(BlockingQueue<ByteBuffer> free) throws InterruptedIOException {
        try {
            return free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static void retryOrThrow(Backoff backoff, IOException e, String name, Progress progress, Parts parts)
            throws IOException {
        parts.persist();
        String why = e instanceof java.net.SocketTimeoutException ? "stalled (no bytes within the stall timeout)"
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        if (!backoff.sleep(null)) {
            throw new HubException(Kind.NETWORK, name + ": giving up after " + backoff.failures()
                    + " retries without progress (" + why + "); run the same command again to resume", e);
        }
        progress.retrying(name + ": " + why + "; resuming");
    }

    private void acquire() throws InterruptedIOException {
        try {
            connections.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static boolean contentRangeStartsAt(String contentRange, long from) {
        if (contentRange == null) {
            return false;
        }
        String v = contentRange.trim();
        if (v.startsWith("bytes ")) {
            v = v.substring(6).trim();
        }
        int dash = v.indexOf('-');
        try {
            return dash > 0 && Long.parseLong(v.substring(0, dash)) == from;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The partial file must be thrown away (416, ranges unsupported). */
    static final class RestartException extends IOException {
        private static final long serialVersionUID = 1L;
        final boolean rangesUnsupported;

        RestartException(String message, boolean rangesUnsupported) {
            super(message);
            this.rangesUnsupported = rangesUnsupported;
        }
    }
}

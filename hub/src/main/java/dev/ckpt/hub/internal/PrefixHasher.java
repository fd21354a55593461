package dev.ckpt.hub.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Hashes a file while download workers write it, in file order, without a second pass over the bytes that can
 * be avoided. A worker whose write continues the contiguous written prefix hands its buffer over
 * ({@link #offer}); the hashing thread ({@link #follow}) hashes it from memory and gives it back. Bytes written
 * ahead of the prefix (the other ranges of a split download) are read back from the file (the page cache) once the
 * prefix reaches them. Only the offering workers and the one following thread may call in; at most the offered
 * buffers are held.
 */
final class PrefixHasher {
    private static final int FILE_READ_BYTES = 1 << 20;

    /** Bytes [at, at + buf.remaining()) of the file, already written, and the pool the buffer goes back to. */
    private record Piece(long at, ByteBuffer buf, BlockingQueue<ByteBuffer> home) {
    }

    private final ContentHash hash;
    private final FileChannel file;
    private final Parts parts;
    private final BlockingQueue<Piece> offered = new LinkedBlockingQueue<>();
    private ByteBuffer fileBuf;
    private long hashed;
    private long fromMemory;

    /** @param hash null when the etag promises no hash: then {@link #follow} only waits for the workers */
    PrefixHasher(ContentHash hash, FileChannel file, Parts parts) {
        this.hash = hash;
        this.file = file;
        this.parts = parts;
    }

    /**
     * Called by a worker after writing {@code buf}'s remaining bytes at {@code at} and before recording them in
     * {@link Parts}: when they continue the written prefix the buffer is taken (and later put into {@code home});
     * otherwise returns false and the caller keeps its buffer.
     */
    boolean offer(long at, ByteBuffer buf, BlockingQueue<ByteBuffer> home) {
        // frontier == at means everything before `at` is on disk, and only this worker can move the frontier
        // past `at` (it owns the segment there), which it does after this call: so the follower, reading the
        // frontier first and the offers second, either sees this piece or stops before `at`.
        if (hash == null || parts.frontier() != at) {
            return false;
        }
        offered.add(new Piece(at, buf, home));
        return true;
    }

    /**
     * Hashes the prefix as it grows until the file is complete and hashed, or {@code failed} says a worker gave up
     * (then it returns early, and the caller reports the worker's failure).
     *
     * @param workersDone true once every worker has ended
     * @throws IOException if the file cannot be read back, or the workers ended before the file was complete
     */
    void follow(BooleanSupplier workersDone, BooleanSupplier failed) throws IOException {
        TreeMap<Long, Piece> pending = new TreeMap<>();
        try {
            while (!failed.getAsBoolean()) {
                boolean finished = workersDone.getAsBoolean(); // read before the frontier
                long frontier = parts.frontier();
                for (Piece p; (p = offered.poll()) != null; ) {
                    pending.put(p.at, p);
                }
                if (hash != null && step(frontier, pending)) {
                    continue;
                }
                if (finished) {
                    if (failed.getAsBoolean()) {
                        return; // a worker failed after the check above: the caller reports its failure
                    }
                    if (!parts.complete()) {
                        throw new IOException("download workers ended before the file was complete");
                    }
                    if (hash == null || hashed >= parts.size()) {
                        return;
                    }
                    continue; // the last bytes arrived between the two reads above
                }
                Piece p = offered.poll(5, TimeUnit.MILLISECONDS);
                if (p != null) {
                    pending.put(p.at, p);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        } finally {
            pending.values().forEach(p -> p.home.offer(p.buf));
        }
    }

    /** Hashes one piece from memory or up to 1 MiB from the file; false when nothing could be hashed now. */
    private boolean step(long frontier, TreeMap<Long, Piece> pending) throws IOException {
        Piece p = pending.remove(hashed);
        if (p != null) {
            int n = p.buf.remaining();
            hash.update(p.buf);
            hashed += n;
            fromMemory += n;
            p.home.offer(p.buf);
            return true;
        }
        Map.Entry<Long, Piece> next = pending.ceilingEntry(hashed);
        long stop = Math.min(frontier, next == null ? Long.MAX_VALUE : next.getKey());
        if (stop <= hashed) {
            return false;
        }
        if (fileBuf == null) {
            fileBuf = ByteBuffer.allocateDirect(FILE_READ_BYTES);
        }
        fileBuf.clear().limit((int) Math.min(FILE_READ_BYTES, stop - hashed));
        int n = file.read(fileBuf, hashed);
        if (n <= 0) {
            throw new EOFException("short read at byte " + hashed + " while hashing the download");
        }
        hash.update(fileBuf.flip());
        hashed += n;
        return true;
    }

    /** Bytes hashed straight from the download buffers (the rest were read back from the file). */
    long hashedFromMemory() {
        return fromMemory;
    }
}

package dev.ckpt.hub.serve;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.serve.HubServer.Responses;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * {@code HEAD|GET /{repo}/resolve/{rev}/{path}}: the Hub's headers (X-Repo-Commit, ETag, X-Linked-Etag and
 * X-Linked-Size for LFS files) and a single byte range ({@code bytes=a-b}, {@code a-}, {@code -n}) answered with
 * 206 + Content-Range, or 416 + {@code Content-Range: bytes * /size}. Bodies stream from disk in 256 KiB pieces.
 */
final class ResolveHandler {
    private static final int BUFFER_BYTES = 256 << 10;
    private final ModelStore store;
    private final long bytesPerSecond;

    ResolveHandler(ModelStore store, long bytesPerSecond) {
        this.store = store;
        this.bytesPerSecond = bytesPerSecond;
    }

    void handle(HttpExchange ex, RepoId repo, String rev, String path) throws IOException {
        String method = ex.getRequestMethod();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            Responses.error(ex, 405, null, "Method not allowed", null);
            return;
        }
        ModelStore.Snapshot snap;
        try {
            snap = store.snapshot(repo, rev);
        } catch (ModelStore.NotFound e) {
            Responses.error(ex, 404, e.errorCode(), e.getMessage(), null);
            return;
        }
        var file = snap.file(path);
        if (file.isEmpty()) {
            Responses.error(ex, 404, "EntryNotFound", path + " does not exist on \"" + rev + "\"", snap.commit());
            return;
        }
        ServedFile f = file.get();
        Headers h = ex.getResponseHeaders();
        h.set("X-Repo-Commit", snap.commit());
        h.set("ETag", "\"" + f.etag() + "\"");
        if (f.lfsSha256() != null) {
            h.set("X-Linked-Etag", "\"" + f.lfsSha256() + "\"");
            h.set("X-Linked-Size", Long.toString(f.size()));
        }
        h.set("Accept-Ranges", "bytes");
        h.set("Content-Type", "application/octet-stream");
        h.set("Access-Control-Expose-Headers", "X-Repo-Commit,X-Linked-Etag,X-Linked-Size,ETag,Content-Range");
        long size = f.size();
        long from = 0;
        long to = size - 1;
        int status = 200;
        String range = ex.getRequestHeaders().getFirst("Range");
        if (range != null) {
            long[] r = parseRange(range, size);
            if (r == null) {
                h.set("Content-Range", "bytes */" + size);
                Responses.send(ex, 416, new byte[0]);
                return;
            }
            if (r.length == 2) {
                from = r[0];
                to = r[1];
                status = 206;
                h.set("Content-Range", "bytes " + from + "-" + to + "/" + size);
            }
        }
        long length = Math.max(0, to - from + 1);
        if (method.equals("HEAD")) {
            h.set("Content-Length", Long.toString(length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, length == 0 ? -1 : length);
        if (length == 0) {
            return;
        }
        try (FileChannel ch = FileChannel.open(f.file(), StandardOpenOption.READ); OutputStream os = ex.getResponseBody()) {
            ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
            long pos = from;
            long end = to + 1;
            long t0 = System.nanoTime();
            while (pos < end) {
                buf.clear().limit((int) Math.min(BUFFER_BYTES, end - pos));
                int n = ch.read(buf, pos);
                if (n <= 0) {
                    throw new IOException("file shrank while serving: " + f.file());
                }
                // pace before sending: a cap that slept after the last piece would let a client that does not
                // wait for the end of the exchange (a fresh connection per range) get every piece at full speed
                throttle(pos + n - from, t0);
                os.write(buf.array(), 0, n);
                pos += n;
            }
        }
    }

    /** Sleeps until {@code sent} bytes are within the per-connection rate cap (no-op without a cap). */
    private void throttle(long sent, long t0) throws IOException {
        if (bytesPerSecond <= 0) {
            return;
        }
        long dueNanos = (long) (sent * 1e9 / bytesPerSecond) - (System.nanoTime() - t0);
        if (dueNanos > 0) {
            try {
                Thread.sleep(dueNanos / 1_000_000, (int) (dueNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted");
            }
        }
    }

    /**
     * Parses one byte range against {@code size}: {@code {from, to}}; an empty array to ignore the header
     * (multiple ranges, other units); null when unsatisfiable (416).
     */
    static long[] parseRange(String header, long size) {
        String v = header.trim();
        if (!v.startsWith("bytes=") || v.contains(",")) {
            return new long[0];
        }
        v = v.substring(6).trim();
        int dash = v.indexOf('-');
        if (dash < 0) {
            return new long[0];
        }
        try {
            String a = v.substring(0, dash).trim();
            String b = v.substring(dash + 1).trim();
            long from;
            long to;
            if (a.isEmpty()) {
                long n = Long.parseLong(b);
                if (n <= 0) {
                    return null;
                }
                from = Math.max(0, size - n);
                to = size - 1;
            } else {
                from = Long.parseLong(a);
                to = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
            }
            if (from >= size || from > to) {
                return null;
            }
            return new long[] {from, to};
        } catch (NumberFormatException e) {
            return new long[0];
        }
    }
}

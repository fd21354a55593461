package dev.ckpt.hub.internal;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A minimal HTTP/1.1 client for cleartext ({@code http://}) download bodies: one GET per connection
 * ({@code Connection: close}), blocking {@link SocketChannel} reads straight into the caller's (direct) buffer.
 * OkHttp reads through 8 KiB heap segments and copies twice more before a byte reaches the file; this path reads
 * megabytes per system call with no copy in Java, which is most of the client's CPU on a fast link. Bodies framed
 * by Content-Length, chunked encoding or connection close. A connection silent for the stall timeout is closed by
 * a watchdog and its read fails with {@link SocketTimeoutException}. Used only where {@link #usable(String)} says;
 * {@code -Dckpt.hub.plainHttp=false} turns it off (everything then goes through OkHttp).
 */
public final class PlainHttp {
    private static final boolean ENABLED = !"false".equals(System.getProperty("ckpt.hub.plainHttp"));
    private static final int HEAD_BYTES = 64 << 10;
    /**
     * Bytes a response head may take in all (status lines and fields of interim 1xx answers included), and
     * likewise each chunk-size line and the trailer: a hostile or broken server streaming endless header
     * lines would otherwise grow the field map or keep the watchdog (which only sees silence) from firing.
     */
    private static final int HEAD_TOTAL_BYTES = 256 << 10;
    private static final Set<Response> OPEN = ConcurrentHashMap.newKeySet();
    private static Thread watchdog;

    private PlainHttp() {
    }

    /** True for an {@code http://} URL when this client is enabled and no JVM proxy is configured. */
    public static boolean usable(String url) {
        return ENABLED && url.regionMatches(true, 0, "http://", 0, 7) && System.getProperty("http.proxyHost") == null;
    }

    /**
     * Sends {@code GET url} with {@code headers} (Host and Connection are added) and returns once the response
     * headers are read. The caller reads the body and closes the response.
     */
    public static BodyResponse get(String url, Map<String, String> headers, Duration connectTimeout, Duration stallTimeout)
            throws IOException {
        URI u = URI.create(url);
        String host = u.getHost();
        if (host == null) {
            throw new IOException("no host in " + Urls.printable(url));
        }
        int port = u.getPort() < 0 ? 80 : u.getPort();
        String target = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
                + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        StringBuilder req = new StringBuilder("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host)
                .append(u.getPort() < 0 ? "" : ":" + port).append("\r\n");
        headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
        req.append("Connection: close\r\n\r\n");
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host; // IPv6 literal
        SocketChannel socket = SocketChannel.open();
        Response r = new Response(socket, url, stallTimeout.toNanos());
        try {
            socket.socket().connect(new InetSocketAddress(bare, port), (int) connectTimeout.toMillis());
            socket.socket().setTcpNoDelay(true);
            ByteBuffer out = ByteBuffer.wrap(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            while (out.hasRemaining()) {
                socket.write(out);
            }
            r.readHead();
            return r;
        } catch (IOException | RuntimeException e) {
            r.close();
            if (r.stalled) {
                throw r.stallException();
            }
            throw e;
        }
    }

    /** One response on its own connection (any byte channel, so that tests and the fuzzer can feed one). */
    static final class Response implements BodyResponse {
        private final ByteChannel channel;
        private final String url;
        private final long stallNanos;
        private final ByteBuffer in = ByteBuffer.allocate(HEAD_BYTES).flip(); // bytes read past the headers
        private final Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        private volatile long lastActivity = System.nanoTime();
        private volatile boolean stalled;
        private int code;
        private boolean chunked;
        private long remaining = -1; // body bytes left (Content-Length or current chunk); -1 = until close
        private boolean done;
        private boolean chunkSeen;
        private int headBytesLeft;

        Response(ByteChannel channel, String url, long stallNanos) {
            this.channel = channel;
            this.url = url;
            this.stallNanos = stallNanos;
            watch(this);
        }

        @Override
        public int code() {
            return code;
        }

        @Override
        public String header(String name) {
            return headers.get(name);
        }

        @Override
        public String url() {
            return url;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (done || !dst.hasRemaining()) {
                return done ? -1 : 0;
            }
            if (chunked && remaining == 0 && !nextChunk()) {
                return -1;
            }
            int n = readLimited(dst, remaining < 0 ? Long.MAX_VALUE : remaining);
            if (n < 0) {
                if (remaining < 0) {
                    done = true; // framed by connection close
                    return -1;
                }
                throw new EOFException("connection closed with " + remaining + " body bytes still expected");
            }
            if (remaining > 0) {
                remaining -= n;
                done = remaining == 0 && !chunked;
            }
            return n;
        }

        /** Reads at most {@code max} bytes: leftovers of the header read first, then the socket, straight into dst. */
        private int readLimited(ByteBuffer dst, long max) throws IOException {
            int want = (int) Math.min(dst.remaining(), max);
            if (in.hasRemaining()) {
                int n = Math.min(want, in.remaining());
                dst.put(dst.position(), in, in.position(), n);
                dst.position(dst.position() + n);
                in.position(in.position() + n);
                return n;
            }
            int limit = dst.limit();
            dst.limit(dst.position() + want);
            try {
                return fill(dst);
            } finally {
                dst.limit(limit);
            }
        }

        /** One socket read; updates the stall clock; a read cut by the watchdog becomes a timeout. */
        private int fill(ByteBuffer dst) throws IOException {
            try {
                int n = channel.read(dst);
                lastActivity = System.nanoTime();
                return n;
            } catch (ClosedChannelException e) {
                if (stalled) {
                    throw stallException();
                }
                throw e;
            }
        }

        SocketTimeoutException stallException() {
            return new SocketTimeoutException("no bytes for " + stallNanos / 1_000_000 + " ms");
        }

        /** Status line and headers (any 1xx interim responses skipped); sets the body framing. */
        void readHead() throws IOException {
            headBytesLeft = HEAD_TOTAL_BYTES;
            do {
                headers.clear();
                String status = line();
                String[] f = status.split(" ", 3);
                if (f.length < 2 || !f[0].startsWith("HTTP/1.")) {
                    throw new IOException("not an HTTP/1.x response from " + Urls.printable(url) + ": " + abbrev(status));
                }
                try {
                    code = Integer.parseInt(f[1]);
                } catch (NumberFormatException e) {
                    throw new IOException("bad HTTP status line from " + Urls.printable(url) + ": " + abbrev(status));
                }
                for (String h = line(); !h.isEmpty(); h = line()) {
                    int colon = h.indexOf(':');
                    if (colon > 0) {
                        headers.putIfAbsent(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
                    }
                }
            } while (code >= 100 && code < 200);
            String te = headers.get("Transfer-Encoding");
            String cl = headers.get("Content-Length");
            if (code == 204 || code == 304) {
                done = true;
            } else if (te != null && te.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                chunked = true;
                remaining = 0;
            } else if (cl != null) {
                try {
                    remaining = Long.parseLong(cl);
                    if (remaining < 0) {
                        throw new NumberFormatException("negative");
                    }
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length from " + Urls.printable(url) + ": " + abbrev(cl));
                }
                done = remaining == 0;
            }
        }

        /** Starts the next chunk: false after the last one (its trailers consumed). */
        private boolean nextChunk() throws IOException {
            if (chunkSeen && !line().isEmpty()) { // the CRLF that ends every chunk's data
                throw new IOException("malformed chunked body from " + Urls.printable(url));
            }
            chunkSeen = true;
            headBytesLeft = HEAD_TOTAL_BYTES;
            String sizeLine = line();
            int semi = sizeLine.indexOf(';');
            try {
                remaining = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
                if (remaining < 0) {
                    throw new NumberFormatException("negative");
                }
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size from " + Urls.printable(url) + ": " + abbrev(sizeLine));
            }
            if (remaining == 0) {
                while (!line().isEmpty()) {
                    // trailer fields: nothing in them matters for a download
                }
                done = true;
                return false;
            }
            return true;
        }

        /** One CRLF- (or LF-) terminated line of at most 64 KiB, read through the small buffer. */
        private String line() throws IOException {
            StringBuilder b = new StringBuilder();
            while (true) {
                if (!in.hasRemaining()) {
                    in.clear();
                    int n = fill(in);
                    in.flip();
                    if (n < 0) {
                        throw new EOFException("connection closed inside the response head from " + Urls.printable(url));
                    }
                }
                byte c = in.get();
                if (--headBytesLeft < 0) {
                    throw new IOException("response head over " + (HEAD_TOTAL_BYTES >> 10) + " KiB from " + Urls.printable(url));
                }
                if (c == '\n') {
                    int len = b.length();
                    return len > 0 && b.charAt(len - 1) == '\r' ? b.substring(0, len - 1) : b.toString();
                }
                if (b.length() >= HEAD_BYTES) {
                    throw new IOException("response header line over 64 KiB from " + Urls.printable(url));
                }
                b.append((char) (c & 0xff));
            }
        }

        private static String abbrev(String s) {
            return s.length() > 80 ? s.substring(0, 80) + "..." : s;
        }

        @Override
        public void close() throws IOException {
            OPEN.remove(this);
            channel.close();
        }
    }

    /** Registers a connection with the stall watchdog (one daemon thread for all of them, started on first use). */
    private static synchronized void watch(Response r) {
        OPEN.add(r);
        if (watchdog == null) {
            watchdog = Thread.ofPlatform().daemon().name("ckpt-http-stall-watchdog").start(PlainHttp::watchLoop);
        }
    }

    private static void watchLoop() {
        while (true) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Response r : OPEN) {
                if (now - r.lastActivity > r.stallNanos) {
                    r.stalled = true;
                    try {
                        r.close(); // wakes the blocked read with AsynchronousCloseException
                    } catch (IOException ignored) {
                        // closing a socket we give up on: nothing to do if that fails too
                    }
                }
            }
        }
    }
}

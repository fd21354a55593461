package dev.ckpt.hub.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * Coverage-guided fuzzing (Jazzer) of ckpt's HTTP/1.1 response reader against a hostile server: the input's first
 * byte sets how many bytes each socket read returns (1-16, so every header and chunk boundary falls everywhere),
 * the rest is what the server sends. The head and the body either parse or fail with an IOException (the
 * download then retries or reports one line); the body never yields more bytes than the server sent. Replays
 * {@code PlainHttpResponseFuzzTestInputs/} in a normal test run; {@code scripts/fuzz.sh} fuzzes.
 */
class PlainHttpResponseFuzzTest {
    private static final long NO_STALL_NANOS = Long.MAX_VALUE / 4;

    @FuzzTest(maxDuration = "60s")
    void readHeadAndBody(byte[] data) throws IOException {
        if (data.length == 0) {
            return;
        }
        ServerBytes server = new ServerBytes(data, 1 + (data[0] & 15));
        PlainHttp.Response r = new PlainHttp.Response(server, "http://fuzz.invalid/f", NO_STALL_NANOS);
        try {
            r.readHead();
            r.header("Content-Length");
            ByteBuffer buf = ByteBuffer.allocate(1 + (data[0] >>> 4 & 15) * 97);
            long body = 0;
            for (int n; (n = r.read(buf.clear())) >= 0; ) {
                body += n;
                if (body > data.length) {
                    throw new AssertionError("body of " + body + " bytes from " + data.length + " bytes sent");
                }
                if (n == 0 && !server.hasMore()) {
                    throw new AssertionError("read returned 0 at the end of the stream: a caller would spin");
                }
            }
        } catch (IOException expected) {
            // malformed, truncated or oversized responses end as IOException
        } finally {
            r.close();
        }
    }

    /** The server's side of the connection: {@code data[1..]} in reads of at most {@code piece} bytes. */
    private static final class ServerBytes implements ByteChannel {
        private final byte[] data;
        private final int piece;
        private int at = 1;
        private boolean open = true;

        ServerBytes(byte[] data, int piece) {
            this.data = data;
            this.piece = piece;
        }

        boolean hasMore() {
            return at < data.length;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (at >= data.length) {
                return -1;
            }
            int n = Math.min(Math.min(piece, dst.remaining()), data.length - at);
            dst.put(data, at, n);
            at += n;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            int n = src.remaining();
            src.position(src.limit());
            return n;
        }

        @Override
        public boolean isOpen() {
            return open;
        }

        @Override
        public void close() {
            open = false;
        }
    }
}

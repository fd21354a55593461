package dev.ckpt.hub.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link PlainHttp} against a scripted socket server: framing, split reads, drops, stalls. */
class PlainHttpTest {
    private ServerSocket server;
    private final CompletableFuture<String> request = new CompletableFuture<>();

    @BeforeEach
    void open() throws IOException {
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void close() throws IOException {
        server.close();
    }

    /** Accepts one connection, reads the request head, then writes each piece with a flush and a pause between. */
    private void answer(List<byte[]> pieces, long holdOpenMillis) {
        Thread.ofVirtual().start(() -> {
            try (Socket s = server.accept()) {
                request.complete(readHead(s.getInputStream()));
                OutputStream out = s.getOutputStream();
                for (byte[] p : pieces) {
                    out.write(p);
                    out.flush();
                    Thread.sleep(20); // lets the client see each piece as a separate read
                }
                Thread.sleep(holdOpenMillis);
            } catch (IOException | InterruptedException e) {
                request.completeExceptionally(e);
            }
        });
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private BodyResponse get(Duration stall) throws IOException {
        String url = "http://127.0.0.1:" + server.getLocalPort() + "/org/name/resolve/main/f.bin?x=1";
        return PlainHttp.get(url, Map.of("Range", "bytes=5-"), Duration.ofSeconds(5), stall);
    }

    private static String body(BodyResponse r, int bufferBytes) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocateDirect(bufferBytes);
        while (r.read(buf.clear()) >= 0) {
            buf.flip();
            byte[] a = new byte[buf.remaining()];
            buf.get(a);
            b.write(a, 0, a.length);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void contentLengthBodyWithHeadersSplitAcrossReads() throws Exception {
        answer(List.of(ascii("HTTP/1.1 206 Partial Content\r\nContent-Ra"), ascii("nge: bytes 5-15/16\r\nContent-Length: 11\r"),
                ascii("\n\r\nhello"), ascii(" world"), ascii("TRAILING-GARBAGE")), 0);
        try (BodyResponse r = get(Duration.ofSeconds(5))) {
            assertThat(r.code()).isEqualTo(206);
            assertThat(r.header("content-range")).isEqualTo("bytes 5-15/16");
            assertThat(body(r, 4)).isEqualTo("hello world"); // stops at Content-Length, not at close
        }
        assertThat(request.get()).startsWith("GET /org/name/resolve/main/f.bin?x=1 HTTP/1.1\r\n")
                .contains("\r\nHost: 127.0.0.1:" + server.getLocalPort() + "\r\n", "\r\nRange: bytes=5-\r\n",
                        "\r\nConnection: close\r\n");
    }

    @Test
    void chunkedBodyWithExtensionsAndTrailers() throws Exception {
        answer(List.of(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel"),
                ascii("lo\r\n6\r\n world\r"), ascii("\n0\r\nX-Trailer: t\r\n\r\n")), 0);
        try (BodyResponse r = get(Duration.ofSeconds(5))) {
            assertThat(r.code()).isEqualTo(200);
            assertThat(body(r, 3)).isEqualTo("hello world");
        }
    }

    @Test
    void bodyFramedByCloseAndInterimResponsesSkipped() throws Exception {
        answer(List.of(ascii("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nall of it")), 0);
        try (BodyResponse r = get(Duration.ofSeconds(5))) {
            assertThat(r.code()).isEqualTo(200);
            assertThat(body(r, 1 << 20)).isEqualTo("all of it");
        }
    }

    @Test
    void connectionDroppedMidBodyIsAnEofAfterTheBytesThatArrived() throws Exception {
        answer(List.of(ascii("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")), 0);
        try (BodyResponse r = get(Duration.ofSeconds(5))) {
            ByteBuffer buf = ByteBuffer.allocate(64);
            int got = 0;
            IOException failure = null;
            try {
                for (int n; (n = r.read(buf)) >= 0; ) {
                    got += n;
                }
            } catch (IOException e) {
                failure = e;
            }
            assertThat(got).isEqualTo(10); // the caller keeps these and resumes from byte 10
            assertThat(failure).isInstanceOf(EOFException.class).hasMessageContaining("90 body bytes");
        }
    }

    @Test
    void silentConnectionFailsWithATimeoutAfterTheStallLimit() throws Exception {
        answer(List.of(ascii("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")), 5_000);
        try (BodyResponse r = get(Duration.ofMillis(300))) {
            ByteBuffer buf = ByteBuffer.allocate(64);
            assertThat(r.read(buf)).isEqualTo(3);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> r.read(buf)).isInstanceOf(SocketTimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        }
    }

    @Test
    void garbageInsteadOfAStatusLineIsAnError() {
        answer(List.of(ascii("SSH-2.0-OpenSSH\r\n\r\n")), 0);
        assertThatThrownBy(() -> get(Duration.ofSeconds(5)).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("not an HTTP/1.x response");
    }

    @Test
    void endlessHeaderLinesAreCutOffInsteadOfGrowingTheFieldMap() {
        StringBuilder fields = new StringBuilder("HTTP/1.1 200 OK\r\n");
        for (int i = 0; i < 20_000; i++) { // ~400 KiB of distinct fields, every line well under 64 KiB
            fields.append("X-Field-").append(i).append(": ").append("v".repeat(8)).append("\r\n");
        }
        answer(List.of(ascii(fields.toString())), 0);
        assertThatThrownBy(() -> get(Duration.ofSeconds(5)).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("response head over 256 KiB");
    }

    @Test
    void negativeContentLengthIsAnError() {
        answer(List.of(ascii("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc")), 0);
        assertThatThrownBy(() -> get(Duration.ofSeconds(5)).close()).isInstanceOf(IOException.class)
                .hasMessageContaining("bad Content-Length");
    }

    @Test
    void onlyCleartextUrlsAreTaken() {
        assertThat(PlainHttp.usable("http://127.0.0.1:1/x")).isTrue();
        assertThat(PlainHttp.usable("HTTP://host/x")).isTrue();
        assertThat(PlainHttp.usable("https://huggingface.co/x")).isFalse();
    }
}

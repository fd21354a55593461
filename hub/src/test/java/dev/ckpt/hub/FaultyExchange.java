package dev.ckpt.hub;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** An exchange whose response body misbehaves after {@code afterBytes}: drops, corrupts or stalls. */
final class FaultyExchange extends HttpExchange {
    enum Mode { DROP, CORRUPT, STALL }

    private final HttpExchange d;
    private final Mode mode;
    private final long afterBytes;
    private final CountDownLatch release;

    FaultyExchange(HttpExchange delegate, Mode mode, long afterBytes, CountDownLatch release) {
        this.d = delegate;
        this.mode = mode;
        this.afterBytes = afterBytes;
        this.release = release;
    }

    @Override
    public OutputStream getResponseBody() {
        return new FilterOutputStream(d.getResponseBody()) {
            long written;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (written > afterBytes || written + len <= afterBytes) {
                    written += len;
                    out.write(b, off, len); // far from the fault: pass through in bulk
                    return;
                }
                for (int i = 0; i < len; i++) {
                    write(b[off + i]);
                }
            }

            @Override
            public void write(int b) throws IOException {
                if (written == afterBytes) {
                    switch (mode) {
                        case DROP -> throw new IOException("injected: connection dropped");
                        case STALL -> {
                            out.flush();
                            try {
                                release.await(30, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            throw new IOException("injected: stalled");
                        }
                        case CORRUPT -> b = b ^ 0x5a;
                    }
                }
                written++;
                out.write(b);
            }
        };
    }

    @Override public Headers getRequestHeaders() { return d.getRequestHeaders(); }
    @Override public Headers getResponseHeaders() { return d.getResponseHeaders(); }
    @Override public URI getRequestURI() { return d.getRequestURI(); }
    @Override public String getRequestMethod() { return d.getRequestMethod(); }
    @Override public HttpContext getHttpContext() { return d.getHttpContext(); }
    @Override public void close() { d.close(); }
    @Override public InputStream getRequestBody() { return d.getRequestBody(); }
    @Override public void sendResponseHeaders(int rCode, long responseLength) throws IOException { d.sendResponseHeaders(rCode, responseLength); }
    @Override public InetSocketAddress getRemoteAddress() { return d.getRemoteAddress(); }
    @Override public int getResponseCode() { return d.getResponseCode(); }
    @Override public InetSocketAddress getLocalAddress() { return d.getLocalAddress(); }
    @Override public String getProtocol() { return d.getProtocol(); }
    @Override public Object getAttribute(String name) { return d.getAttribute(name); }
    @Override public void setAttribute(String name, Object value) { d.setAttribute(name, value); }
    @Override public void setStreams(InputStream i, OutputStream o) { d.setStreams(i, o); }
    @Override public HttpPrincipal getPrincipal() { return d.getPrincipal(); }
}

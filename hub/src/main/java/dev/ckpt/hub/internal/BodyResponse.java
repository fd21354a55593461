package dev.ckpt.hub.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The status, headers and body of one download response, whichever HTTP client produced it ({@link PlainHttp} for
 * cleartext bodies, OkHttp otherwise). The body is read straight into the caller's buffer so a direct buffer goes
 * from the socket to the file without a heap copy. Not thread-safe; close it to release the connection.
 */
public interface BodyResponse extends Closeable {
    /** HTTP status code. */
    int code();

    /** First value of header {@code name} (case-insensitive), or null. */
    String header(String name);

    /** The URL that was requested (for messages; may carry a query string, print it through {@link Urls#printable}). */
    String url();

    /**
     * Reads body bytes into {@code dst}; returns how many, or -1 at the end of the body. Blocks until at least one
     * byte is available; a connection silent for the stall timeout fails with {@link java.net.SocketTimeoutException}.
     */
    int read(ByteBuffer dst) throws IOException;
}

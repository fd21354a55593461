package dev.ckpt.hub.internal;

import java.io.InterruptedIOException;
import java.time.Duration;

/**
 * Retry budget with exponential back-off (base, 2x, 4x, 8x, 8x...) as huggingface_hub's http_backoff.
 * Not thread-safe: one per request loop.
 */
public final class Backoff {
    private static final Duration MAX_SERVER_WAIT = Duration.ofMinutes(5);
    private final Duration base;
    private final int maxRetries;
    private int failures;

    public Backoff(Duration base, int maxRetries) {
        this.base = base;
        this.maxRetries = maxRetries;
    }

    /**
     * Consumes one retry and sleeps; returns false (without sleeping) when the budget is spent.
     *
     * @param serverWait a wait the server asked for (Retry-After), or null for exponential back-off
     */
    public boolean sleep(Duration serverWait) throws InterruptedIOException {
        if (failures >= maxRetries) {
            return false;
        }
        long ms = serverWait != null ? Math.min(serverWait.toMillis(), MAX_SERVER_WAIT.toMillis())
                : base.toMillis() * (1L << Math.min(failures, 3));
        failures++;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
        return true;
    }

    /** Progress was made: the next failure starts a fresh budget. */
    public void reset() {
        failures = 0;
    }

    public int failures() {
        return failures;
    }
}

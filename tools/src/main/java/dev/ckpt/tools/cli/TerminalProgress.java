package dev.ckpt.tools.cli;

import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.tools.ops.ByteSize;
import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress display (tensors, bytes, rate, ETA) on stderr, only when attached to a terminal. */
final class TerminalProgress implements ProgressListener {
    private final PrintStream err;
    private final String verb;
    private final long startNanos = System.nanoTime();
    private long lastPrint;
    private int tensorCount;
    private long totalBytes;

    private TerminalProgress(PrintStream err, String verb) {
        this.err = err;
        this.verb = verb;
    }

    /** A listener that draws on stderr when it is a terminal, and does nothing otherwise (CI, pipes). */
    static ProgressListener forStderr(String verb) {
        return System.console() != null && System.console().isTerminal() ? new TerminalProgress(System.err, verb) : NONE;
    }

    @Override
    public void started(int tensors, long bytes) {
        tensorCount = tensors;
        totalBytes = bytes;
    }

    @Override
    public void tensorWritten(TensorInfo tensor, int doneTensors, long doneBytes) {
        long now = System.nanoTime();
        if (now - lastPrint < 200_000_000L && doneTensors < tensorCount) {
            return;
        }
        lastPrint = now;
        double s = Math.max(1e-9, (now - startNanos) / 1e9);
        double rate = doneBytes / s;
        long eta = rate > 0 ? (long) ((totalBytes - doneBytes) / rate) : 0;
        err.printf(Locale.ROOT, "\r%s %d/%d tensors, %s / %s, %s/s, ETA %ds   ", verb, doneTensors, tensorCount,
                ByteSize.format(doneBytes), ByteSize.format(totalBytes), ByteSize.format((long) rate), eta);
    }

    @Override
    public void finished(WriteReport report) {
        err.print("\r\033[K");
        err.flush();
    }
}

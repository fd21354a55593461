package dev.ckpt.tools.cli;

import dev.ckpt.hub.DownloadListener;
import dev.ckpt.hub.FileOutcome;
import dev.ckpt.hub.RepoFile;
import dev.ckpt.tools.ops.ByteSize;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Download progress on a terminal: one status line on stderr redrawn every 250 ms with total bytes, percent,
 * rate, ETA and the active files' percentages; retries are printed on their own lines. When stderr is not a
 * terminal (CI, pipes) or {@code --json} is given it draws nothing. Thread-safe.
 */
final class DownloadProgress implements DownloadListener, AutoCloseable {
    private final PrintStream err;
    private final boolean draw;
    private final long startNanos = System.nanoTime();
    private final AtomicLong total = new AtomicLong();
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong resumedBytes = new AtomicLong();
    private final Map<String, long[]> active = new ConcurrentHashMap<>(); // path -> {done, size}
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();
    private final Thread ticker;

    private DownloadProgress(PrintStream err, boolean draw) {
        this.err = err;
        this.draw = draw;
        this.ticker = draw ? Thread.ofPlatform().daemon().name("ckpt-progress").start(this::tick) : null;
    }

    /** Draws on stderr only when it is a terminal and {@code wanted}. */
    static DownloadProgress forStderr(boolean wanted) {
        boolean tty = System.console() != null && System.console().isTerminal();
        return new DownloadProgress(System.err, wanted && tty);
    }

    @Override
    public void planned(String commit, List<RepoFile> files) {
        files.forEach(f -> sizes.put(f.path(), f.size()));
        total.set(files.stream().mapToLong(RepoFile::size).sum());
    }

    @Override
    public void resumed(String path, long bytes) {
        resumedBytes.addAndGet(bytes);
        add(path, bytes);
    }

    @Override
    public void transferred(String path, long bytes) {
        add(path, bytes);
    }

    private void add(String path, long bytes) {
        done.addAndGet(bytes);
        active.computeIfAbsent(path, p -> new long[] {0, sizes.getOrDefault(p, 0L)})[0] += bytes;
    }

    @Override
    public void finished(FileOutcome outcome) {
        long[] a = active.remove(outcome.path());
        long have = a == null ? 0 : a[0];
        done.addAndGet(outcome.size() - have); // cached files count as done
    }

    @Override
    public void retrying(String path, String reason) {
        if (draw) {
            synchronized (err) {
                err.print("\r\033[K");
                err.println("ckpt: retry: " + reason);
            }
        }
    }

    private void tick() {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (err) {
                err.print("\r\033[K" + line());
                err.flush();
            }
        }
    }

    String line() {
        double s = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        long d = done.get();
        long t = Math.max(total.get(), d);
        double rate = Math.max(0, d - resumedBytes.get()) / s;
        long eta = rate > 0 ? (long) ((t - d) / rate) : -1;
        String files = active.entrySet().stream().limit(3).map(e -> shortName(e.getKey()) + " "
                + (e.getValue()[1] > 0 ? 100 * e.getValue()[0] / e.getValue()[1] : 0) + "%").collect(Collectors.joining(", "));
        return String.format(Locale.ROOT, "%s / %s (%d%%) %s/s ETA %s%s", ByteSize.format(d), ByteSize.format(t),
                t > 0 ? 100 * d / t : 100, ByteSize.format((long) rate), eta < 0 ? "?" : clock(eta),
                files.isEmpty() ? "" : " | " + files);
    }

    private static String shortName(String path) {
        String n = path.substring(path.lastIndexOf('/') + 1);
        return n.length() > 28 ? n.substring(0, 12) + "…" + n.substring(n.length() - 14) : n;
    }

    private static String clock(long seconds) {
        return seconds >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
                : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    @Override
    public void close() {
        if (ticker != null) {
            ticker.interrupt();
            try {
                ticker.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (err) {
                err.print("\r\033[K");
                err.flush();
            }
        }
    }
}

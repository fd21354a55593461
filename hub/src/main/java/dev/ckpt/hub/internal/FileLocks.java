package dev.ckpt.hub.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive lock on a lock file shared between threads of this JVM and other processes, as
 * huggingface_hub's {@code .locks/<repo>/<etag>.lock}: a {@code flock(2)} lock ({@link Flock}), the
 * kind Python's {@code filelock} takes, so ckpt and Python downloads into one cache exclude each
 * other; where flock is unavailable, a {@code FileChannel} (fcntl) lock, which still excludes other
 * ckpt processes. Lock files are never deleted.
 */
public final class FileLocks {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();
    private static final long POLL_MS = 50;

    private FileLocks() {
    }

    /** A held lock; closing releases it. */
    public interface Held extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    /**
     * Polls {@code tryLock}: a blocking {@code lock()} (fcntl F_SETLKW) can fail with EDEADLK when two processes
     * each hold one lock in one thread and wait for the other's in another thread, because the kernel's deadlock
     * detection sees processes, not threads.
     */
    private static FileLock waitFor(FileChannel ch, Path lockFile) throws IOException {
        while (true) {
            FileLock l = ch.tryLock();
            if (l != null) {
                return l;
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for " + lockFile);
            }
        }
    }

    /** Holds {@code lockFile} with flock, or returns null when flock cannot be used for it. */
    private static Held flock(Path lockFile, ReentrantLock local) throws IOException {
        var fd = Flock.open(lockFile);
        if (fd.isEmpty()) {
            return null;
        }
        while (true) {
            switch (Flock.tryLockExclusive(fd.getAsInt())) {
                case LOCKED -> {
                    return () -> {
                        try {
                            Flock.close(fd.getAsInt());
                        } finally {
                            local.unlock();
                        }
                    };
                }
                case UNSUPPORTED -> {
                    Flock.close(fd.getAsInt());
                    return null;
                }
                case BUSY -> {
                    try {
                        Thread.sleep(POLL_MS);
                    } catch (InterruptedException e) {
                        Flock.close(fd.getAsInt());
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while waiting for " + lockFile);
                    }
                }
            }
        }
    }

    /** Blocks until {@code lockFile} is held exclusively by this thread. */
    public static Held acquire(Path lockFile) throws IOException {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock local = IN_PROCESS.computeIfAbsent(key, k -> new ReentrantLock());
        try {
            local.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for " + lockFile);
        }
        FileChannel ch = null;
        try {
            Files.createDirectories(key.getParent());
            Held flocked = Flock.AVAILABLE ? flock(key, local) : null;
            if (flocked != null) {
                return flocked;
            }
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock os = waitFor(ch, lockFile);
            FileChannel channel = ch;
            return () -> {
                try {
                    os.release();
                    channel.close();
                } finally {
                    local.unlock();
                }
            };
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                ch.close();
            }
            local.unlock();
            throw e;
        }
    }
}

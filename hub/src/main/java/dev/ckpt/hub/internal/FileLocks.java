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
 * Exclusive lock on a lock file shared between threads of this JVM and other processes (OS file lock),
 * as huggingface_hub's {@code .locks/<repo>/<etag>.lock}. Lock files are never deleted.
 */
public final class FileLocks {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    private FileLocks() {
    }

    /** A held lock; closing releases it. */
    public interface Held extends AutoCloseable {
        @Override
        void close() throws IOException;
    }

    /**
     * Polls with tryLock rather than blocking in lock(): POSIX record locks belong to processes, so
     * two multi-threaded processes that each hold one lock file and wait on the other's get a false
     * EDEADLK ("Resource deadlock avoided") from the kernel even though their threads would finish.
     */
    private static FileLock waitForOsLock(FileChannel ch, Path lockFile) throws IOException {
        long sleepMillis = 5;
        while (true) {
            FileLock lock = ch.tryLock();
            if (lock != null) {
                return lock;
            }
            try {
                Thread.sleep(sleepMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for " + lockFile);
            }
            sleepMillis = Math.min(200, sleepMillis * 2);
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
            ch = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock os = waitForOsLock(ch, lockFile);
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

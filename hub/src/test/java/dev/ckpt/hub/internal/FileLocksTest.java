package dev.ckpt.hub.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache lock is a flock(2) lock, the kind Python's huggingface_hub (filelock) takes: checked with
 * util-linux {@code flock -n}, an independent process that uses flock(2) exactly like filelock does.
 */
class FileLocksTest {
    @TempDir
    Path tmp;

    /** Exit status of {@code flock -n FILE true}: 0 when the lock was free, 1 when someone holds it. */
    private static int externalTryLock(Path file) throws Exception {
        Process p = new ProcessBuilder("flock", "-n", file.toString(), "true").redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void anotherProcessUsingFlockSeesTheLockWhileHeldAndFreeAfter() throws Exception {
        assertThat(Flock.AVAILABLE).as("flock through libc on Linux").isTrue();
        Path lock = tmp.resolve(".locks/models--a--b/abc.lock");
        try (FileLocks.Held held = FileLocks.acquire(lock)) {
            assertThat(externalTryLock(lock)).as("held by ckpt: flock -n must fail").isEqualTo(1);
        }
        assertThat(externalTryLock(lock)).as("released").isZero();
    }

    @Test
    void waitsForALockHeldByAnotherProcess() throws Exception {
        Path lock = tmp.resolve("x.lock");
        Path started = tmp.resolve("started");
        // The other process takes the lock, signals, and keeps it until its stdin closes.
        Process holder = new ProcessBuilder("flock", lock.toString(), "sh", "-c", "touch '" + started + "'; cat >/dev/null").start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!java.nio.file.Files.exists(started) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertThat(started).exists();
            var acquired = new java.util.concurrent.atomic.AtomicBoolean();
            Thread t = Thread.ofPlatform().start(() -> {
                try (FileLocks.Held h = FileLocks.acquire(lock)) {
                    acquired.set(true);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            t.join(300);
            assertThat(acquired).as("must wait while the other process holds the lock").isFalse();
            holder.getOutputStream().close();
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(acquired).as("acquired once the other process let go").isTrue();
        } finally {
            holder.destroy();
        }
    }
}

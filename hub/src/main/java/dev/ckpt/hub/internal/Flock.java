package dev.ckpt.hub.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * BSD {@code flock(2)} locks through the C library, the lock Python's huggingface_hub takes on
 * {@code .locks/<repo>/<etag>.lock} (via the {@code filelock} package). Java's own
 * {@code FileChannel.lock} takes POSIX record locks ({@code fcntl}), which Linux keeps entirely
 * separate from {@code flock} locks, so a Python download and a ckpt download of the same blob would
 * not exclude each other with it. Unavailable (see {@link #AVAILABLE}) off Linux/macOS or without
 * native access; callers then fall back to {@code FileChannel} locks.
 */
final class Flock {
    static final boolean AVAILABLE;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int O_RDWR = 2;
    private static final int O_CREAT = 64;   // Linux value; macOS uses 0x200
    private static final int O_CLOEXEC = 0x80000;
    private static final MethodHandle OPEN;
    private static final MethodHandle FLOCK;
    private static final MethodHandle CLOSE;

    static {
        MethodHandle open = null;
        MethodHandle flock = null;
        MethodHandle close = null;
        boolean ok = false;
        if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            try {
                Linker l = Linker.nativeLinker();
                var libc = l.defaultLookup();
                open = l.downcallHandle(libc.findOrThrow("open"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2));
                flock = l.downcallHandle(libc.findOrThrow("flock"), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.captureCallState("errno"));
                close = l.downcallHandle(libc.findOrThrow("close"), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                ok = true;
            } catch (RuntimeException | LinkageError e) {
                // No native access or no libc symbols: FileChannel locks only.
            }
        }
        OPEN = open;
        FLOCK = flock;
        CLOSE = close;
        AVAILABLE = ok;
    }

    private Flock() {
    }

    /** Opens (creating) {@code file} for locking; empty when it cannot be opened this way. */
    static OptionalInt open(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(arena.allocateFrom(file.toString()), O_RDWR | O_CREAT | O_CLOEXEC, 0664);
            return fd < 0 ? OptionalInt.empty() : OptionalInt.of(fd);
        } catch (Throwable t) {
            return OptionalInt.empty();
        }
    }

    /** Outcome of one lock attempt. */
    enum Attempt { LOCKED, BUSY, UNSUPPORTED }

    private static final int EWOULDBLOCK = 11;
    private static final int EINTR = 4;
    private static final java.lang.foreign.StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final java.lang.invoke.VarHandle ERRNO = CALL_STATE.varHandle(
            java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    /**
     * One non-blocking attempt at an exclusive lock on {@code fd}: {@code BUSY} when another
     * descriptor holds it, {@code UNSUPPORTED} when the file system refuses flock (e.g. ENOLCK).
     */
    static Attempt tryLockExclusive(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB);
            if (rc == 0) {
                return Attempt.LOCKED;
            }
            int errno = (int) ERRNO.get(state, 0L);
            return errno == EWOULDBLOCK || errno == EINTR ? Attempt.BUSY : Attempt.UNSUPPORTED;
        } catch (Throwable t) {
            return Attempt.UNSUPPORTED;
        }
    }

    /** Closes {@code fd}, which releases its lock. */
    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // Nothing sensible to do: the descriptor is gone either way at exit.
        }
    }
}

package dev.ckpt.formats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The output does not fit: raised before the first byte is written when the file system says so, and for a write
 * into a memory-mapped output that faulted (a mapped page that cannot be backed raises SIGBUS, which the JDK turns into
 * an {@link InternalError}). The CLI maps it to exit code 3 (the environment refused the output).
 */
public final class OutOfSpaceException extends IOException {
    private static final long serialVersionUID = 1L;

    public OutOfSpaceException(String message) {
        super(message);
    }

    /**
     * Refuses to start when {@code dir}'s file system reports fewer usable bytes than {@code bytes}. File systems
     * that report no size at all (some FUSE and network mounts say 0 of 0) are not judged.
     */
    public static void requireSpace(Path dir, long bytes) throws IOException {
        var store = Files.getFileStore(dir);
        long usable = store.getUsableSpace();
        if (store.getTotalSpace() > 0 && usable < bytes) {
            throw new OutOfSpaceException("the output needs " + bytes + " bytes but " + dir + " has " + usable
                    + " usable: free space or choose another --out (nothing was written)");
        }
    }

    /**
     * Throws the OutOfSpaceException for {@code e} when it is the JDK's report of a faulted access to a mapped output
     * (a full disk, or the file truncated under the mapping); returns otherwise, and the caller rethrows {@code e}.
     */
    public static void rethrowIfMappedFault(Error e, Path file) throws OutOfSpaceException {
        if (e instanceof InternalError && String.valueOf(e.getMessage()).contains("unsafe memory access")) {
            OutOfSpaceException x = new OutOfSpaceException("a write into " + file.getFileName() + " faulted: the disk"
                    + " is full (or the file was truncated by another process); free space or choose another --out"
                    + " (nothing partial was kept)");
            x.initCause(e);
            throw x;
        }
    }
}

package dev.ckpt.formats;

import java.lang.foreign.MemorySegment;

/**
 * Keeps resident memory flat while streaming through memory-mapped files: after a recipe has read
 * (or written) a slice of a mapped segment, {@link #release} drops those pages from this process
 * (they stay in the OS page cache, and written pages are still written back).
 */
public final class MappedMemory {
    private MappedMemory() {
    }

    /** Drops the pages of {@code segment} from resident memory when it is file-mapped; otherwise no-op. */
    public static void release(MemorySegment segment) {
        if (segment.isMapped() && segment.byteSize() > 0) {
            try {
                segment.unload();
            } catch (UnsupportedOperationException | IllegalStateException e) {
                // Not mappable on this platform, or already closed: nothing to release.
            }
        }
    }
}

package dev.ckpt.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * A {@link TensorRecipe} that can compute any byte range of its tensor on its own, so a writer can
 * stream the tensor through a small reusable buffer instead of mapping the whole output range
 * (faster on Linux, and memory stays at one buffer per thread). Writers call
 * {@link #fillRange} with ranges in increasing order, each starting at a multiple of
 * {@link #RANGE_ALIGNMENT} bytes, covering the tensor exactly once.
 */
public interface RangeRecipe extends TensorRecipe {
    /** Every range a writer asks for starts at a multiple of this (so it starts on an element). */
    long RANGE_ALIGNMENT = 8;

    /**
     * Fills {@code target} with the tensor's bytes {@code [byteOffset, byteOffset + target.byteSize())}.
     */
    void fillRange(long byteOffset, MemorySegment target) throws IOException;

    @Override
    default void fill(MemorySegment target) throws IOException {
        fillRange(0, target);
    }
}

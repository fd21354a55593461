package dev.ckpt.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * How to compute the bytes of one output tensor from its inputs. Writers call it once per
 * output tensor, possibly from a worker thread, with a target of exactly the tensor's byte size.
 */
@FunctionalInterface
public interface TensorRecipe {
    /** Fill {@code target} (little-endian, row-major, exactly {@code byteSize} bytes). */
    void fill(MemorySegment target) throws IOException;
}

package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.numeric.FloatCodec;
import java.lang.foreign.MemorySegment;

/**
 * A {@link RowSink} that rounds f32 rows once (RNE, as PyTorch's {@code .to()}) into the output
 * dtype and stores them at their place in the target tensor's bytes; written pages are released
 * from the resident set (the OS still writes them back).
 */
public final class SegmentSink implements RowSink {
    private final MemorySegment target;
    private final DType dtype;
    private final int cols;
    private final int elementBytes;

    public SegmentSink(MemorySegment target, DType dtype, int cols) {
        this.target = target;
        this.dtype = dtype;
        this.cols = cols;
        this.elementBytes = dtype.bitSize() / 8;
    }

    @Override
    public void write(long row0, int count, float[] values) {
        long n = Math.multiplyExact(count, cols);
        long offset = row0 * cols * elementBytes;
        FloatCodec.encode(values, 0, (int) n, dtype, target, offset);
        MappedMemory.release(target.asSlice(offset, n * elementBytes));
    }
}

package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.numeric.FloatCodec;

/**
 * {@link Rows} over a tensor's bytes (F32, F16, BF16, or F64), decoded to f32 on demand; nothing
 * is copied until asked for. A tensor of rank 0 or 1 is seen as a column [n, 1]; rank above 2 as
 * [dim0, rest]. Rows read through {@link #read} are released from the resident set afterwards
 * (they stay in the page cache), so streaming a large tensor keeps RSS flat.
 */
public final class ViewRows implements Rows {
    /** Bytes before a block that are released again: more than a large page-cache folio (2 MiB) that a fault maps whole. */
    private static final long FAULT_AROUND_MARGIN = 4L << 20;

    private final TensorView view;
    private final DType dtype;
    private final long rows;
    private final int cols;
    private final int elementBytes;

    public ViewRows(TensorView view) {
        this.view = view;
        this.dtype = view.info().dtype();
        if (!FloatCodec.supports(dtype)) {
            throw new IllegalArgumentException(view.info().name() + ": cannot compute on " + dtype);
        }
        Shape s = view.info().shape();
        if (s.rank() <= 1) {
            rows = s.elementCount();
            cols = 1;
        } else {
            rows = s.dim(0);
            cols = Math.toIntExact(s.rowLength());
        }
        elementBytes = dtype.bitSize() / 8;
    }

    @Override
    public long rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    @Override
    public void read(long row0, int count, float[] dst) {
        long n = Math.multiplyExact(count, cols);
        long offset = row0 * cols * elementBytes;
        FloatCodec.decode(view.data(), offset, dtype, dst, 0, (int) n);
        // Streaming reads never come back to these rows: drop them from this process's resident set.
        // A read fault maps the whole page-cache folio (up to 2 MiB with large folios) or a 64 KiB
        // fault-around window, so pages before this block released earlier may be mapped again.
        long from = Math.max(0, offset - FAULT_AROUND_MARGIN);
        MappedMemory.release(view.data().asSlice(from, offset + n * elementBytes - from));
    }

    @Override
    public void readColumns(long row, int col0, int count, float[] dst) {
        FloatCodec.decode(view.data(), (row * cols + col0) * elementBytes, dtype, dst, 0, count);
    }
}

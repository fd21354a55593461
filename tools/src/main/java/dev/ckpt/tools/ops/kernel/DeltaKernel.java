package dev.ckpt.tools.ops.kernel;

import java.io.IOException;

/**
 * Streams {@code out = other ± base} in f32 a row block at a time; the sink rounds once. The base
 * may have fewer rows than {@code other} (vocab grown by LLaVA): rows past the base keep the values
 * of {@code other} unchanged (the top-left block rule of LLaVA's apply_delta / make_delta).
 */
public final class DeltaKernel {
    /** Which way the base is combined. */
    public enum Op {
        /** apply-delta: {@code delta + base}. */
        ADD,
        /** make-delta: {@code target - base}. */
        SUBTRACT
    }

    private DeltaKernel() {
    }

    /**
     * @param other the delta (ADD) or the target (SUBTRACT); defines the output shape
     * @param base  the base, same columns, at most as many rows
     */
    public static void run(Rows other, Rows base, Op op, RowSink sink) throws IOException {
        int cols = other.cols();
        if (base.cols() != cols || base.rows() > other.rows()) {
            throw new IllegalArgumentException("base [" + base.rows() + "x" + base.cols() + "] is not a top-left block of ["
                    + other.rows() + "x" + cols + "]");
        }
        long rows = other.rows();
        int block = RowBlocks.rowsPerBlock(rows, cols);
        float[] v = new float[block * cols];
        float[] b = new float[block * cols];
        for (long row0 = 0; row0 < rows; row0 += block) {
            int n = (int) Math.min(block, rows - row0);
            other.read(row0, n, v);
            int nb = (int) Math.max(0, Math.min(n, base.rows() - row0));
            if (nb > 0) {
                base.read(row0, nb, b);
                int len = nb * cols;
                if (op == Op.ADD) {
                    for (int i = 0; i < len; i++) {
                        v[i] += b[i];
                    }
                } else {
                    for (int i = 0; i < len; i++) {
                        v[i] -= b[i];
                    }
                }
            }
            sink.write(row0, n, v);
        }
    }
}

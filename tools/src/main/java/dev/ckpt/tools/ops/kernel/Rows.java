package dev.ckpt.tools.ops.kernel;

import java.io.IOException;

/**
 * A row-major matrix that can be read as f32 a few rows at a time. Tensors of rank above 2 are
 * seen as [dim0, product of the other dims]. Implementations decode on demand, so a reader never
 * holds more than the rows it was asked for. Safe for concurrent reads into distinct buffers.
 */
public interface Rows {
    /** Number of rows. */
    long rows();

    /** Elements per row. */
    int cols();

    /**
     * Decodes rows {@code [row0, row0 + count)} into {@code dst[0 .. count*cols)}, row-major.
     *
     * @throws IOException when the underlying file cannot be read
     */
    void read(long row0, int count, float[] dst) throws IOException;

    /** Reads the whole matrix; only for small factors (a LoRA rank times a row). */
    default float[] readAll() throws IOException {
        long n = Math.multiplyExact(rows(), (long) cols());
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("matrix of " + n + " elements is too large to hold on the heap");
        }
        float[] out = new float[(int) n];
        read(0, Math.toIntExact(rows()), out);
        return out;
    }

    /** An in-memory matrix (tests, tiny factors). */
    static Rows of(float[] data, long rows, int cols) {
        if (data.length != rows * cols) {
            throw new IllegalArgumentException(data.length + " values for a " + rows + "x" + cols + " matrix");
        }
        return new Rows() {
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
                System.arraycopy(data, Math.toIntExact(row0 * cols), dst, 0, count * cols);
            }
        };
    }

    /**
     * The transpose of {@code m}: row {@code j} of the result is column {@code j} of {@code m}.
     * Reading {@code count} rows decodes {@code m.rows()} runs of {@code count} elements.
     */
    static Rows transposed(Rows m) {
        int outCols = Math.toIntExact(m.rows());
        return new Rows() {
            @Override
            public long rows() {
                return m.cols();
            }

            @Override
            public int cols() {
                return outCols;
            }

            @Override
            public void read(long row0, int count, float[] dst) throws IOException {
                float[] run = new float[count];
                for (int k = 0; k < outCols; k++) {
                    m.readColumns(k, Math.toIntExact(row0), count, run);
                    for (int i = 0; i < count; i++) {
                        dst[i * outCols + k] = run[i];
                    }
                }
            }
        };
    }

    /**
     * Decodes {@code count} consecutive elements of row {@code row} starting at column {@code col0}.
     * The default reads the whole row; view-backed readers decode only the run.
     */
    default void readColumns(long row, int col0, int count, float[] dst) throws IOException {
        float[] full = new float[cols()];
        read(row, 1, full);
        System.arraycopy(full, col0, dst, 0, count);
    }
}

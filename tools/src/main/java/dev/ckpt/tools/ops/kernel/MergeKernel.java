package dev.ckpt.tools.ops.kernel;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Streams {@code W' = W + Σ Δ_k} (with DoRA steps in adapter order) over a tensor a row block at a
 * time, entirely in f32; the {@link RowSink} rounds once into the output dtype. Heap: a few
 * {@link RowBlocks} of f32 plus each update's right factor; never the whole tensor.
 *
 * <p>A DoRA update whose norm runs over columns needs every row before it can scale any: the kernel
 * then makes one extra read pass per such update to collect the column norms (sums in f64).
 */
public final class MergeKernel {
    private MergeKernel() {
    }

    /** Computes the merged tensor and hands it to {@code sink} block by block, in row order. */
    public static void run(Rows base, List<LowRankUpdate> updates, RowSink sink) throws IOException {
        int cols = base.cols();
        for (LowRankUpdate u : updates) {
            if (u.cols() != cols || u.left().rows() != base.rows()) {
                throw new IllegalArgumentException("update of [" + u.left().rows() + "x" + u.cols()
                        + "] does not fit a [" + base.rows() + "x" + cols + "] tensor");
            }
        }
        List<float[]> columnNorms = new ArrayList<>();
        for (int t = 0; t < updates.size(); t++) {
            columnNorms.add(null);
        }
        for (int t = 0; t < updates.size(); t++) {
            LowRankUpdate u = updates.get(t);
            if (u.dora() && u.normAxis() == LowRankUpdate.NormAxis.COLUMN) {
                double[] sq = new double[cols];
                pass(base, updates, columnNorms, t, sq, null);
                float[] factor = new float[cols];
                for (int j = 0; j < cols; j++) {
                    factor[j] = u.magnitude()[j] / (float) Math.sqrt(sq[j]);
                }
                columnNorms.set(t, factor);
            }
        }
        pass(base, updates, columnNorms, updates.size(), null, sink);
    }

    /**
     * One read pass: applies updates {@code [0, stop)} to every block; when {@code stop} names a
     * column-DoRA update, applies its Δ too and accumulates column sums of squares into {@code sq}.
     */
    private static void pass(Rows base, List<LowRankUpdate> updates, List<float[]> columnFactors, int stop,
                             double[] sq, RowSink sink) throws IOException {
        int cols = base.cols();
        long rows = base.rows();
        int block = RowBlocks.rowsPerBlock(rows, cols);
        if (block >= 8) {
            block -= block % 4; // whole 4-row tiles of LowRank's kernel (46 -> 44 rows for 5632 columns)
        }
        float[] v = new float[block * cols];
        float[] delta = updates.isEmpty() ? null : new float[block * cols];
        float[] left = null;
        for (long row0 = 0; row0 < rows; row0 += block) {
            int n = (int) Math.min(block, rows - row0);
            base.read(row0, n, v);
            int limit = Math.min(stop + (sq != null ? 1 : 0), updates.size());
            for (int t = 0; t < limit; t++) {
                LowRankUpdate u = updates.get(t);
                if (left == null || left.length < n * u.rank()) {
                    left = new float[block * u.rank()];
                }
                u.left().read(row0, n, left);
                LowRank.product(left, n, u.rank(), u.right(), cols, u.scale(), delta);
                apply(u, columnFactors.get(t), row0, n, cols, v, delta, sq != null && t == stop);
            }
            if (sq != null) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < cols; j++) {
                        double x = v[i * cols + j];
                        sq[j] += x * x;
                    }
                }
            } else {
                sink.write(row0, n, v);
            }
        }
    }

    private static void apply(LowRankUpdate u, float[] columnFactor, long row0, int n, int cols,
                              float[] v, float[] delta, boolean collecting) {
        int len = n * cols;
        for (int i = 0; i < len; i++) {
            v[i] += delta[i];
        }
        if (!u.dora() || collecting) {
            return;
        }
        if (u.normAxis() == LowRankUpdate.NormAxis.ROW) {
            for (int i = 0; i < n; i++) {
                int o = i * cols;
                double s = 0;
                for (int j = 0; j < cols; j++) {
                    double x = v[o + j];
                    s += x * x;
                }
                float factor = u.magnitude()[Math.toIntExact(row0 + i)] / (float) Math.sqrt(s);
                for (int j = 0; j < cols; j++) {
                    v[o + j] *= factor;
                }
            }
        } else {
            for (int i = 0; i < n; i++) {
                int o = i * cols;
                for (int j = 0; j < cols; j++) {
                    v[o + j] *= columnFactor[j];
                }
            }
        }
    }
}

package dev.ckpt.tools.ops.kernel;

import java.util.Arrays;

/**
 * The one matrix product of LoRA merging: {@code dst = fl(left · right) · scale} for a block of
 * rows, in f32, accumulating over the rank in index order. Java never fuses the multiply and the
 * add, so the result is deterministic on every CPU. Four rows are computed together over column
 * tiles so each loaded element of {@code right} feeds four accumulators (same arithmetic, same
 * order, as the plain triple loop).
 *
 * <p>When the JVM runs with {@code --add-modules jdk.incubator.vector} (see {@link Simd}),
 * {@link #product} uses {@link LowRankVector}, a register-blocked Vector API kernel about 20x
 * faster with bit-identical results; otherwise this class's plain loops.
 * {@code -Dckpt.vector=false} forces the plain loops.
 */
public final class LowRank {
    /** Columns per tile: four accumulator tiles stay in L1. */
    private static final int TILE = 512;

    /** True when the Vector API kernel is used (see {@link Simd}). */
    static final boolean VECTOR = Simd.AVAILABLE;

    private LowRank() {
    }

    /** True when {@link #product} runs the Vector API kernel (for reports and tests). */
    public static boolean vectorized() {
        return VECTOR;
    }

    /**
     * {@code dst[i*cols + j] = (Σ_k left[i*rank + k] · right[k*cols + j]) · scale} for
     * {@code i < rows}, sums in f32 in increasing {@code k}.
     *
     * @param left  [rows, rank] row-major
     * @param right [rank, cols] row-major
     * @param dst   receives [rows, cols]; overwritten
     */
    public static void product(float[] left, int rows, int rank, float[] right, int cols, float scale, float[] dst) {
        if (left.length < rows * rank || right.length < rank * cols || dst.length < rows * cols) {
            throw new IllegalArgumentException("buffers too small for [" + rows + "x" + rank + "]·[" + rank + "x" + cols + "]");
        }
        if (VECTOR) {
            LowRankVector.product(left, rows, rank, right, cols, scale, dst);
        } else {
            productScalar(left, rows, rank, right, cols, scale, dst);
        }
    }

    /** {@link #product} in plain Java loops (no argument checks). */
    static void productScalar(float[] left, int rows, int rank, float[] right, int cols, float scale, float[] dst) {
        float[] c0 = new float[TILE];
        float[] c1 = new float[TILE];
        float[] c2 = new float[TILE];
        float[] c3 = new float[TILE];
        int i = 0;
        for (; i + 4 <= rows; i += 4) {
            for (int j0 = 0; j0 < cols; j0 += TILE) {
                int n = Math.min(TILE, cols - j0);
                Arrays.fill(c0, 0f);
                Arrays.fill(c1, 0f);
                Arrays.fill(c2, 0f);
                Arrays.fill(c3, 0f);
                for (int k = 0; k < rank; k++) {
                    float a0 = left[i * rank + k];
                    float a1 = left[(i + 1) * rank + k];
                    float a2 = left[(i + 2) * rank + k];
                    float a3 = left[(i + 3) * rank + k];
                    int r = k * cols + j0;
                    for (int j = 0; j < n; j++) {
                        float x = right[r + j];
                        c0[j] += a0 * x;
                        c1[j] += a1 * x;
                        c2[j] += a2 * x;
                        c3[j] += a3 * x;
                    }
                }
                store(c0, n, scale, dst, i * cols + j0);
                store(c1, n, scale, dst, (i + 1) * cols + j0);
                store(c2, n, scale, dst, (i + 2) * cols + j0);
                store(c3, n, scale, dst, (i + 3) * cols + j0);
            }
        }
        for (; i < rows; i++) {
            int o = i * cols;
            Arrays.fill(dst, o, o + cols, 0f);
            for (int k = 0; k < rank; k++) {
                float a = left[i * rank + k];
                int r = k * cols;
                for (int j = 0; j < cols; j++) {
                    dst[o + j] += a * right[r + j];
                }
            }
            if (scale != 1f) {
                for (int j = 0; j < cols; j++) {
                    dst[o + j] *= scale;
                }
            }
        }
    }

    private static void store(float[] acc, int n, float scale, float[] dst, int at) {
        if (scale == 1f) {
            System.arraycopy(acc, 0, dst, at, n);
            return;
        }
        for (int j = 0; j < n; j++) {
            dst[at + j] = acc[j] * scale;
        }
    }
}

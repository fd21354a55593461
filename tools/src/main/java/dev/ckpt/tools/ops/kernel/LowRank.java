package dev.ckpt.tools.ops.kernel;

/**
 * The one matrix product of LoRA merging: {@code dst = fl(left · right) · scale} for a block of
 * rows, in f32, accumulating over the rank in index order. Java never fuses the multiply and the
 * add, so the result is deterministic on every CPU.
 */
public final class LowRank {
    private LowRank() {
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
        for (int i = 0; i < rows; i++) {
            int o = i * cols;
            java.util.Arrays.fill(dst, o, o + cols, 0f);
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
}

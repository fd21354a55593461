package dev.ckpt.tools.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LowRankTest {
    /** Surefire runs with {@code --add-modules jdk.incubator.vector}, so the vector kernel is what is tested here. */
    @Test
    void vectorKernelIsActiveUnderTests() {
        assertThat(LowRank.vectorized()).isTrue();
    }

    /** The tiled kernel must give exactly the plain f32 triple loop (same order of additions), for odd sizes too. */
    @Test
    void tiledProductEqualsPlainLoopBitForBit() {
        Random rnd = new Random(3);
        for (int[] s : new int[][] {{1, 1, 1}, {3, 2, 5}, {4, 8, 512}, {7, 3, 1030}, {9, 16, 513}, {5, 7, 16}, {6, 128, 2048 + 64 + 17}, {13, 5, 700}}) {
            int rows = s[0];
            int rank = s[1];
            int cols = s[2];
            float[] l = new float[rows * rank];
            float[] r = new float[rank * cols];
            for (int i = 0; i < l.length; i++) {
                l[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < r.length; i++) {
                r[i] = (float) rnd.nextGaussian();
            }
            for (float scale : new float[] {1f, 0.37f}) {
                float[] d = new float[rows * cols];
                LowRank.product(l, rows, rank, r, cols, scale, d);
                float[] plain = new float[rows * cols];
                LowRank.productScalar(l, rows, rank, r, cols, scale, plain);
                assertThat(plain).containsExactly(d);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        float acc = 0f;
                        for (int k = 0; k < rank; k++) {
                            acc += l[i * rank + k] * r[k * cols + j];
                        }
                        assertThat(d[i * cols + j]).isEqualTo(acc * scale);
                    }
                }
            }
        }
    }
}

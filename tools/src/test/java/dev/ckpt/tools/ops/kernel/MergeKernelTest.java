package dev.ckpt.tools.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ckpt.tools.ops.kernel.LowRankUpdate.NormAxis;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Worked examples E1-E8 of algorithms.md 2.7; expected numbers copied from the reference. */
class MergeKernelTest {

    private static LowRankUpdate lora(float[] left, int rows, int rank, float[] right, float scale) {
        return new LowRankUpdate(Rows.of(left, rows, rank), right, rank, scale, null, NormAxis.ROW);
    }

    private static float[] merge(float[] w, int rows, int cols, LowRankUpdate... updates) throws IOException {
        float[] out = new float[rows * cols];
        MergeKernel.run(Rows.of(w, rows, cols), List.of(updates),
                (row0, n, v) -> System.arraycopy(v, 0, out, (int) row0 * cols, n * cols));
        return out;
    }

    private static final float[] E1_W = {1, 2, 3, 4, 5, 6};

    @Test
    void e1Linear() throws IOException {
        // A=[[1,0,-1]] (r=1, in=3), B=[[2],[3]], s=2
        float[] out = merge(E1_W, 2, 3, lora(new float[] {2, 3}, 2, 1, new float[] {1, 0, -1}, 2f));
        assertThat(out).containsExactly(5, 2, -1, 10, 5, 0);
    }

    @Test
    void e2ClassicAndRsLora() throws IOException {
        float[] a = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
        float[] b = {1, 0, 0, 1, 0, 1, 1, 0};
        assertThat(merge(E1_W, 2, 3, lora(b, 2, 4, a, 2f))).containsExactly(5, 4, 5, 4, 7, 8);
        assertThat(merge(E1_W, 2, 3, lora(b, 2, 4, a, 4f))).containsExactly(9, 6, 7, 4, 9, 10);
    }

    @Test
    void e3FanInFanOut() throws IOException {
        // base stored [in, out]; left = A^T [3,1], right = B^T [1,2]
        float[] w = {1, 4, 2, 5, 3, 6};
        LowRankUpdate u = new LowRankUpdate(Rows.transposed(Rows.of(new float[] {1, 0, -1}, 1, 3)),
                new float[] {2, 3}, 1, 2f, null, NormAxis.ROW);
        assertThat(merge(w, 3, 2, u)).containsExactly(5, 10, 2, 5, -1, 0);
    }

    @Test
    void e4Embedding() throws IOException {
        float[] e = {1, 1, 2, 2, 3, 3};
        LowRankUpdate u = new LowRankUpdate(Rows.transposed(Rows.of(new float[] {1, 2, 3}, 1, 3)),
                new float[] {1, -1}, 1, 1f, null, NormAxis.ROW);
        assertThat(merge(e, 3, 2, u)).containsExactly(2, 0, 4, 0, 6, 0);
    }

    @Test
    void e5DoraLinear() throws IOException {
        LowRankUpdate u = new LowRankUpdate(Rows.of(new float[] {1, 0}, 2, 1), new float[] {1, 1}, 1, 1f,
                new float[] {1, 2}, NormAxis.ROW);
        float[] out = merge(new float[] {1, 0, 0, 1}, 2, 2, u);
        assertThat(out[0]).isCloseTo(0.894427191f, within(1e-6f));
        assertThat(out[1]).isCloseTo(0.447213595f, within(1e-6f));
        assertThat(out[2]).isEqualTo(0f);
        assertThat(out[3]).isEqualTo(2f);
    }

    @Test
    void e6DoraEmbeddingNormsOverColumns() throws IOException {
        LowRankUpdate u = new LowRankUpdate(Rows.transposed(Rows.of(new float[] {1, 0, 0}, 1, 3)),
                new float[] {1, 0}, 1, 1f, new float[] {2, 1}, NormAxis.COLUMN);
        float[] out = merge(new float[] {1, 0, 0, 1, 1, 1}, 3, 2, u);
        float[] expected = {1.788854382f, 0, 0, 0.707106781f, 0.894427191f, 0.707106781f};
        for (int i = 0; i < expected.length; i++) {
            assertThat(out[i]).as("element %d", i).isCloseTo(expected[i], within(1e-6f));
        }
    }

    @Test
    void e7TwoAdaptersAdd() throws IOException {
        float[] out = merge(E1_W, 2, 3,
                lora(new float[] {2, 3}, 2, 1, new float[] {1, 0, -1}, 2f),
                lora(new float[] {1, 1}, 2, 1, new float[] {0, 1, 0}, 0.5f));
        assertThat(out).containsExactly(5, 2.5f, -1, 10, 5.5f, 0);
    }

    @Test
    void e8Conv1x1() throws IOException {
        // A [1,2,1,1] -> right [1,2]; B [2,1,1,1] -> left [2,1]; base zero
        float[] out = merge(new float[4], 2, 2, lora(new float[] {1, 1}, 2, 1, new float[] {1, 2}, 1f));
        assertThat(out).containsExactly(1, 2, 1, 2);
    }

    /** Several row blocks, two updates incl. both DoRA kinds, against a naive f64 evaluation written here. */
    @Test
    void multiBlockMatchesNaiveReference() throws IOException {
        int cols = RowBlocks.TARGET_ELEMENTS / 2 + 3; // one row per block
        int rows = 3;
        int r = 2;
        Random rnd = new Random(7);
        float[] w = rand(rnd, rows * cols);
        float[] b1 = rand(rnd, rows * r);
        float[] a1 = rand(rnd, r * cols);
        float[] m1 = {1.5f, 0.5f, 2f};
        float[] at2 = rand(rnd, rows * r); // left of a column-DoRA update
        float[] bt2 = rand(rnd, r * cols);
        float[] m2 = rand(rnd, cols);
        LowRankUpdate u1 = new LowRankUpdate(Rows.of(b1, rows, r), a1, r, 0.25f, m1, NormAxis.ROW);
        LowRankUpdate u2 = new LowRankUpdate(Rows.of(at2, rows, r), bt2, r, 2f, m2, NormAxis.COLUMN);
        float[] out = merge(w, rows, cols, u1, u2);

        double[][] v = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            double norm = 0;
            for (int j = 0; j < cols; j++) {
                double d = 0;
                for (int k = 0; k < r; k++) {
                    d += (double) b1[i * r + k] * a1[k * cols + j];
                }
                v[i][j] = w[i * cols + j] + 0.25 * d;
                norm += v[i][j] * v[i][j];
            }
            for (int j = 0; j < cols; j++) {
                v[i][j] *= m1[i] / Math.sqrt(norm);
            }
        }
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double d = 0;
                for (int k = 0; k < r; k++) {
                    d += (double) at2[i * r + k] * bt2[k * cols + j];
                }
                v[i][j] += 2 * d;
            }
        }
        for (int j = 0; j < cols; j++) {
            double norm = 0;
            for (int i = 0; i < rows; i++) {
                norm += v[i][j] * v[i][j];
            }
            for (int i = 0; i < rows; i++) {
                double expected = v[i][j] * m2[j] / Math.sqrt(norm);
                assertThat((double) out[i * cols + j]).isCloseTo(expected, within(1e-5 * Math.max(1, Math.abs(expected))));
            }
        }
    }

    private static float[] rand(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }
}

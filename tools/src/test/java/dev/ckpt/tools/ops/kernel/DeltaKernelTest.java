package dev.ckpt.tools.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

class DeltaKernelTest {
    /** Three rows per block; the base's 4 rows end inside the second block of 7. */
    @Test
    void topLeftBlockRuleAcrossBlockBoundaries() throws IOException {
        int cols = RowBlocks.TARGET_ELEMENTS / 3;
        assertThat(RowBlocks.rowsPerBlock(7, cols)).isEqualTo(3);
        float[] other = new float[7 * cols];
        float[] base = new float[4 * cols];
        for (int i = 0; i < other.length; i++) {
            other[i] = i % 1000 * 0.5f;
        }
        for (int i = 0; i < base.length; i++) {
            base[i] = 1 + i % 7;
        }
        for (DeltaKernel.Op op : DeltaKernel.Op.values()) {
            float[] out = new float[other.length];
            DeltaKernel.run(Rows.of(other, 7, cols), Rows.of(base, 4, cols), op,
                    (row0, n, v) -> System.arraycopy(v, 0, out, (int) row0 * cols, n * cols));
            for (int i = 0; i < out.length; i++) {
                float expected = i < base.length ? (op == DeltaKernel.Op.ADD ? other[i] + base[i] : other[i] - base[i]) : other[i];
                if (out[i] != expected) {
                    throw new AssertionError(op + " element " + i + ": " + out[i] + " != " + expected);
                }
            }
        }
    }

    @Test
    void baseMustBeATopLeftBlock() {
        assertThatThrownBy(() -> DeltaKernel.run(Rows.of(new float[4], 2, 2), Rows.of(new float[6], 3, 2), DeltaKernel.Op.ADD,
                (r, n, v) -> { })).isInstanceOf(IllegalArgumentException.class);
    }
}

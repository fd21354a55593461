package dev.ckpt.tools.ops.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link LowRank#product} with the Vector API: a register-blocked micro-kernel that keeps a
 * 4-row × 4-vector tile of accumulators in registers while {@code k} runs over the rank, so each
 * loaded vector of {@code right} feeds four rows and each broadcast of {@code left} feeds four
 * vectors. Columns are processed in panels of {@link #PANEL} so the panel of {@code right}
 * (rank × panel) stays in L2 while every row of the block passes over it.
 *
 * <p>Every output element is still {@code fl(...fl(fl(l0·r0) + fl(l1·r1)) ... ) · scale} in
 * increasing {@code k}: lane-wise {@code mul} then {@code add} (never fused), exactly the scalar
 * loop's arithmetic, so results are bit-identical to {@link LowRank#productScalar}.
 *
 * <p>Only loaded when the {@code jdk.incubator.vector} module is in the boot layer (see {@link LowRank}).
 */
final class LowRankVector {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Columns per panel: rank 128 × 512 f32 = 256 KiB of {@code right}, inside L2. */
    private static final int PANEL = Math.max(4 * L, 512 / (4 * L) * (4 * L));

    private LowRankVector() {
    }

    static void product(float[] left, int rows, int rank, float[] right, int cols, float scale, float[] dst) {
        for (int p0 = 0; p0 < cols; p0 += PANEL) {
            int p1 = Math.min(cols, p0 + PANEL);
            int i = 0;
            for (; i + 4 <= rows; i += 4) {
                int j = p0;
                for (; j + 4 * L <= p1; j += 4 * L) {
                    tile4x4(left, i, rank, right, cols, j, scale, dst);
                }
                for (; j + L <= p1; j += L) {
                    for (int q = 0; q < 4; q++) {
                        row1(left, i + q, rank, right, cols, j, scale, dst);
                    }
                }
                if (j < p1) {
                    for (int q = 0; q < 4; q++) {
                        scalar(left, i + q, rank, right, cols, j, p1, scale, dst);
                    }
                }
            }
            for (; i < rows; i++) {
                int j = p0;
                for (; j + L <= p1; j += L) {
                    row1(left, i, rank, right, cols, j, scale, dst);
                }
                if (j < p1) {
                    scalar(left, i, rank, right, cols, j, p1, scale, dst);
                }
            }
        }
    }

    private static void tile4x4(float[] left, int i, int rank, float[] right, int cols, int j, float scale, float[] dst) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00;
        FloatVector c02 = c00;
        FloatVector c03 = c00;
        FloatVector c10 = c00;
        FloatVector c11 = c00;
        FloatVector c12 = c00;
        FloatVector c13 = c00;
        FloatVector c20 = c00;
        FloatVector c21 = c00;
        FloatVector c22 = c00;
        FloatVector c23 = c00;
        FloatVector c30 = c00;
        FloatVector c31 = c00;
        FloatVector c32 = c00;
        FloatVector c33 = c00;
        int l0 = i * rank;
        int l1 = l0 + rank;
        int l2 = l1 + rank;
        int l3 = l2 + rank;
        for (int k = 0; k < rank; k++) {
            int r = k * cols + j;
            FloatVector x0 = FloatVector.fromArray(S, right, r);
            FloatVector x1 = FloatVector.fromArray(S, right, r + L);
            FloatVector x2 = FloatVector.fromArray(S, right, r + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, right, r + 3 * L);
            FloatVector a = FloatVector.broadcast(S, left[l0 + k]);
            c00 = c00.add(x0.mul(a));
            c01 = c01.add(x1.mul(a));
            c02 = c02.add(x2.mul(a));
            c03 = c03.add(x3.mul(a));
            a = FloatVector.broadcast(S, left[l1 + k]);
            c10 = c10.add(x0.mul(a));
            c11 = c11.add(x1.mul(a));
            c12 = c12.add(x2.mul(a));
            c13 = c13.add(x3.mul(a));
            a = FloatVector.broadcast(S, left[l2 + k]);
            c20 = c20.add(x0.mul(a));
            c21 = c21.add(x1.mul(a));
            c22 = c22.add(x2.mul(a));
            c23 = c23.add(x3.mul(a));
            a = FloatVector.broadcast(S, left[l3 + k]);
            c30 = c30.add(x0.mul(a));
            c31 = c31.add(x1.mul(a));
            c32 = c32.add(x2.mul(a));
            c33 = c33.add(x3.mul(a));
        }
        int o = i * cols + j;
        // Stored here, not through a helper taking vectors: vectors passed to a call that is not
        // inlined are boxed, and the boxing spoiled the whole loop (10x slower).
        c00.mul(scale).intoArray(dst, o);
        c01.mul(scale).intoArray(dst, o + L);
        c02.mul(scale).intoArray(dst, o + 2 * L);
        c03.mul(scale).intoArray(dst, o + 3 * L);
        o += cols;
        c10.mul(scale).intoArray(dst, o);
        c11.mul(scale).intoArray(dst, o + L);
        c12.mul(scale).intoArray(dst, o + 2 * L);
        c13.mul(scale).intoArray(dst, o + 3 * L);
        o += cols;
        c20.mul(scale).intoArray(dst, o);
        c21.mul(scale).intoArray(dst, o + L);
        c22.mul(scale).intoArray(dst, o + 2 * L);
        c23.mul(scale).intoArray(dst, o + 3 * L);
        o += cols;
        c30.mul(scale).intoArray(dst, o);
        c31.mul(scale).intoArray(dst, o + L);
        c32.mul(scale).intoArray(dst, o + 2 * L);
        c33.mul(scale).intoArray(dst, o + 3 * L);
    }

    /** One row, one vector of columns starting at {@code j}. */
    private static void row1(float[] left, int i, int rank, float[] right, int cols, int j, float scale, float[] dst) {
        FloatVector c = FloatVector.zero(S);
        int l0 = i * rank;
        for (int k = 0; k < rank; k++) {
            c = c.add(FloatVector.fromArray(S, right, k * cols + j).mul(left[l0 + k]));
        }
        c.mul(scale).intoArray(dst, i * cols + j);
    }

    /** One row, columns {@code [j0, j1)} one at a time (fewer than a vector). */
    private static void scalar(float[] left, int i, int rank, float[] right, int cols, int j0, int j1, float scale,
                               float[] dst) {
        for (int j = j0; j < j1; j++) {
            float acc = 0f;
            for (int k = 0; k < rank; k++) {
                acc += left[i * rank + k] * right[k * cols + j];
            }
            dst[i * cols + j] = acc * scale;
        }
    }
}

package dev.ckpt.tools.ops.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link LowRank#product} with the Vector API: a register-blocked micro-kernel that keeps a
 * 4-row × 4-vector tile of accumulators in registers while {@code k} runs over the rank, so each
 * loaded vector of {@code right} feeds four rows and each broadcast of {@code left} feeds four
 * vectors. For each tile of {@link #W} columns the tile's part of {@code right} is first packed
 * into a contiguous strip (rank × W floats) that stays in L1 while every row of the block uses it.
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
    /** Columns per tile: four vectors. */
    private static final int W = 4 * L;

    private LowRankVector() {
    }

    static void product(float[] left, int rows, int rank, float[] right, int cols, float scale, float[] dst) {
        int full = cols / W * W;
        float[] strip = new float[rank * W];
        for (int j = 0; j < full; j += W) {
            // Pack this tile's columns of every row of right contiguously: the strip (rank × W
            // floats, 32 KiB for r = 128) stays in L1 while all rows pass over it, and is read
            // sequentially (rows of right are a power-of-two apart: they would share cache sets).
            for (int k = 0; k < rank; k++) {
                System.arraycopy(right, k * cols + j, strip, k * W, W);
            }
            int i = 0;
            for (; i + 4 <= rows; i += 4) {
                tile4x4(left, i, rank, strip, cols, j, scale, dst);
            }
            for (; i < rows; i++) {
                tile1x4(left, i, rank, strip, cols, j, scale, dst);
            }
        }
        if (full < cols) {
            for (int i = 0; i < rows; i++) {
                int j = full;
                for (; j + L <= cols; j += L) {
                    row1(left, i, rank, right, cols, j, scale, dst);
                }
                if (j < cols) {
                    scalar(left, i, rank, right, cols, j, cols, scale, dst);
                }
            }
        }
    }

    /** Rows {@code i..i+3}, columns {@code j..j+W} from the packed strip ({@code strip[k*W + c]} = right[k][j + c]). */
    private static void tile4x4(float[] left, int i, int rank, float[] strip, int cols, int j, float scale, float[] dst) {
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
            int r = k * W;
            FloatVector x0 = FloatVector.fromArray(S, strip, r);
            FloatVector x1 = FloatVector.fromArray(S, strip, r + L);
            FloatVector x2 = FloatVector.fromArray(S, strip, r + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, strip, r + 3 * L);
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

    /** One row, columns {@code j..j+W} from the packed strip (four independent accumulators). */
    private static void tile1x4(float[] left, int i, int rank, float[] strip, int cols, int j, float scale, float[] dst) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0;
        FloatVector c2 = c0;
        FloatVector c3 = c0;
        int l0 = i * rank;
        for (int k = 0; k < rank; k++) {
            int r = k * W;
            FloatVector a = FloatVector.broadcast(S, left[l0 + k]);
            c0 = c0.add(FloatVector.fromArray(S, strip, r).mul(a));
            c1 = c1.add(FloatVector.fromArray(S, strip, r + L).mul(a));
            c2 = c2.add(FloatVector.fromArray(S, strip, r + 2 * L).mul(a));
            c3 = c3.add(FloatVector.fromArray(S, strip, r + 3 * L).mul(a));
        }
        int o = i * cols + j;
        c0.mul(scale).intoArray(dst, o);
        c1.mul(scale).intoArray(dst, o + L);
        c2.mul(scale).intoArray(dst, o + 2 * L);
        c3.mul(scale).intoArray(dst, o + 3 * L);
    }

    /** One row, one vector of columns starting at {@code j} (right unpacked). */
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

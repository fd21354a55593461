package dev.ckpt.tools.ops.kernel;

import java.util.Objects;

/**
 * One adapter's update of one stored tensor: {@code Δ = fl(left · right) · scale}, optionally
 * followed by DoRA's magnitude rescaling. {@code left} is read a row block at a time; {@code right}
 * (rank × cols) is held whole, which is the rank over the row count of the tensor it updates.
 *
 * @param left      [rows, rank] rows of the left factor (B for Linear, Aᵀ for embeddings and fan_in_fan_out)
 * @param right     [rank, cols] row-major right factor (A for Linear, Bᵀ otherwise)
 * @param rank      the LoRA rank r
 * @param scale     PEFT scaling times the user's adapter weight, one f32 factor
 * @param magnitude DoRA magnitude vector, or null for plain LoRA
 * @param normAxis  which way DoRA's norm runs; ignored without magnitude
 */
public record LowRankUpdate(Rows left, float[] right, int rank, float scale, float[] magnitude, NormAxis normAxis) {

    /** DoRA norm direction in the stored layout. */
    public enum NormAxis {
        /** One norm per stored row (Linear [out, in]: over the input dimension). */
        ROW,
        /** One norm per stored column over all rows (Embedding [V, D]; Linear stored [in, out]). */
        COLUMN
    }

    public LowRankUpdate {
        Objects.requireNonNull(left, "left");
        Objects.requireNonNull(right, "right");
        Objects.requireNonNull(normAxis, "normAxis");
        if (left.cols() != rank || right.length % rank != 0) {
            throw new IllegalArgumentException("factor shapes do not agree with rank " + rank);
        }
    }

    /** Columns of the updated tensor. */
    public int cols() {
        return right.length / rank;
    }

    /** True for a DoRA update. */
    public boolean dora() {
        return magnitude != null;
    }
}

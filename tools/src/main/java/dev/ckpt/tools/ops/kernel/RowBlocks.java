package dev.ckpt.tools.ops.kernel;

/**
 * How many rows of a tensor one streaming step handles: about {@link #TARGET_ELEMENTS} f32 values
 * (1 MiB), at least one row. Every streaming recipe sizes its heap buffers with this, so peak heap
 * per worker is a few blocks whatever the tensor size.
 */
public final class RowBlocks {
    /** f32 elements per block. */
    public static final int TARGET_ELEMENTS = 1 << 18;

    private RowBlocks() {
    }

    /** Rows per block for rows of {@code cols} elements, never more than {@code rows}. */
    public static int rowsPerBlock(long rows, long cols) {
        long n = Math.max(1, TARGET_ELEMENTS / Math.max(1, cols));
        return (int) Math.max(1, Math.min(rows, n));
    }
}

package dev.ckpt.formats;

import java.util.Arrays;

/**
 * Dimensions of a tensor, outermost first (row-major, as safetensors and PyTorch order them).
 * Immutable: the array is copied in and out. A shape with no dimensions is a scalar.
 */
public final class Shape {
    private final long[] dims;

    private Shape(long[] dims) {
        this.dims = dims;
    }

    /** @throws IllegalArgumentException when a dimension is negative */
    public static Shape of(long... dims) {
        for (long d : dims) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            }
        }
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return dims[i];
    }

    public long[] dims() {
        return dims.clone();
    }

    /** Product of the dimensions. @throws ArithmeticException on overflow */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Elements in one row (product of all but the first dimension); 1 for rank 0 and 1. */
    public long rowLength() {
        long n = 1;
        for (int i = 1; i < dims.length; i++) {
            n = Math.multiplyExact(n, dims[i]);
        }
        return n;
    }

    /** Same dimensions except the first, which becomes {@code rows}. */
    public Shape withRows(long rows) {
        long[] d = dims.clone();
        d[0] = rows;
        return of(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}

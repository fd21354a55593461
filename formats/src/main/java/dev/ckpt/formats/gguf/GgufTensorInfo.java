package dev.ckpt.formats.gguf;

import dev.ckpt.formats.Shape;
import java.util.Arrays;
import java.util.Objects;

/**
 * One GGUF tensor info: name, ggml type, dims innermost-first ({@code ne[0]} = columns) and the
 * offset of its bytes relative to the start of the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {
    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Bytes of this tensor's data. @throws ArithmeticException on overflow or a partial block */
    public long byteSize() {
        return type.byteSizeFor(ne);
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Columns (ne[0]). */
    public long rowLength() {
        return ne.length == 0 ? 1 : ne[0];
    }

    /** Rows: product of ne[1..]. */
    public long rowCount() {
        long n = 1;
        for (int i = 1; i < ne.length; i++) {
            n = Math.multiplyExact(n, ne[i]);
        }
        return n;
    }

    /** The shape outermost-first, as safetensors and PyTorch order it (ne reversed). */
    public Shape shape() {
        long[] d = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            d[i] = ne[ne.length - 1 - i];
        }
        return Shape.of(d);
    }

    /** ggml dims (innermost first) for a row-major shape. */
    public static long[] neOf(Shape shape) {
        long[] d = shape.dims();
        long[] ne = new long[d.length];
        for (int i = 0; i < d.length; i++) {
            ne[i] = d[d.length - 1 - i];
        }
        return ne;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type
                && Arrays.equals(ne, t.ne) && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(ne), offset);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(ne) + " @" + offset;
    }
}

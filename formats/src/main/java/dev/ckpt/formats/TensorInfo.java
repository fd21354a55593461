package dev.ckpt.formats;

import java.util.Objects;

/** Name, element type and shape of one tensor; where its bytes live is the reader's business. */
public record TensorInfo(String name, DType dtype, Shape shape) {
    public TensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
    }

    public long elementCount() {
        return shape.elementCount();
    }

    /** Bytes of the contiguous little-endian row-major encoding. */
    public long byteSize() {
        return dtype.byteSizeFor(shape.elementCount());
    }

    public TensorInfo withDType(DType other) {
        return new TensorInfo(name, other, shape);
    }

    public TensorInfo withName(String other) {
        return new TensorInfo(other, dtype, shape);
    }
}

package dev.ckpt.formats;

import java.lang.foreign.MemorySegment;

/**
 * A tensor's bytes: contiguous, little-endian, row-major, exactly {@code info.byteSize()} long.
 * Usually a zero-copy slice of a memory-mapped file, valid until the owning reader is closed.
 * Read-only: never write into it.
 */
public record TensorView(TensorInfo info, MemorySegment data) {
    public TensorView {
        if (data.byteSize() != info.byteSize()) {
            throw new IllegalArgumentException(info.name() + ": view has " + data.byteSize()
                    + " bytes, " + info.dtype() + info.shape() + " needs " + info.byteSize());
        }
    }
}

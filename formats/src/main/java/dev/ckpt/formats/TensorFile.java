package dev.ckpt.formats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One opened tensor container (a safetensors file, a torch .bin zip, a GGUF file). Opening
 * validates the whole header against the spec; {@link #view} hands out the bytes of one tensor.
 * Not thread-safe to open or close; views may be read from several threads. Closing unmaps:
 * views must not be used afterwards.
 */
public interface TensorFile extends AutoCloseable {
    Path path();

    /** Tensors in file order. */
    List<TensorInfo> tensors();

    /**
     * Contiguous little-endian bytes of the named tensor. Zero-copy where the file stores it
     * contiguously; otherwise gathered into memory owned by this file (bounded by one tensor).
     *
     * @throws IllegalArgumentException when the name is not in {@link #tensors()}
     */
    TensorView view(String name) throws IOException;

    /**
     * Groups of tensor names that share bytes in this file (tied weights, views of one storage),
     * each of at least two names in file order. Formats without aliasing (safetensors) return none.
     */
    default List<List<String>> sharedStorages() {
        return List.of();
    }

    /**
     * Where the named tensor's bytes lie in this file, when they are stored there exactly as
     * {@link #view} returns them (contiguous, little-endian, uncompressed); empty otherwise.
     */
    default java.util.Optional<FileRange> fileRange(String name) {
        return java.util.Optional.empty();
    }

    /** What reading decided that a user may want to know (e.g. an unwrapped nested state dict). */
    default List<String> notes() {
        return List.of();
    }

    @Override
    void close();
}

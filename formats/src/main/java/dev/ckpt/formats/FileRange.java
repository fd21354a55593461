package dev.ckpt.formats;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A tensor's exact bytes as a range of a file: contiguous, little-endian, row-major, stored
 * uncompressed. Lets a writer copy them in the kernel ({@code copy_file_range}) instead of through
 * user space.
 */
public record FileRange(Path file, long byteOffset, long byteSize) {
    public FileRange {
        Objects.requireNonNull(file, "file");
        if (byteOffset < 0 || byteSize < 0) {
            throw new IllegalArgumentException("negative file range");
        }
    }
}

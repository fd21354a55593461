package dev.ckpt.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A recipe whose output is exactly a range of an input file (a same-dtype copy of a contiguous
 * tensor). Writers that can copy between files ({@link java.nio.channels.FileChannel#transferTo},
 * which Linux serves with {@code copy_file_range}) use {@link #source()}; others call
 * {@link #fillRange}, which delegates to {@code fallback}.
 */
public record FileCopyRecipe(FileRange source, RangeRecipe fallback) implements RangeRecipe {
    public FileCopyRecipe {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(fallback, "fallback");
    }

    @Override
    public void fillRange(long byteOffset, MemorySegment target) throws IOException {
        fallback.fillRange(byteOffset, target);
    }
}

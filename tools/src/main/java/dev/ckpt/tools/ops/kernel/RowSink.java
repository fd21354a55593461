package dev.ckpt.tools.ops.kernel;

import java.io.IOException;

/** Receives the f32 result of a streaming step, a block of rows at a time, and encodes it. */
@FunctionalInterface
public interface RowSink {
    /** Stores rows {@code [row0, row0 + count)} from {@code values[0 .. count*cols)}. */
    void write(long row0, int count, float[] values) throws IOException;
}

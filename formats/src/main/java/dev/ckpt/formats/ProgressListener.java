package dev.ckpt.formats;

/**
 * Receives progress of a {@link CheckpointWriter#write}. Calls are serialized by the writer (never
 * concurrent) but may come from worker threads. Implementations must be quick and must not throw.
 */
public interface ProgressListener {
    /** Ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /** Before the first tensor: how much will be written. */
    default void started(int tensorCount, long tensorBytes) {
    }

    /** After each tensor is complete; {@code doneBytes} counts tensor bytes written so far. */
    default void tensorWritten(TensorInfo tensor, int doneTensors, long doneBytes) {
    }

    /** After the output is in place. */
    default void finished(WriteReport report) {
    }
}

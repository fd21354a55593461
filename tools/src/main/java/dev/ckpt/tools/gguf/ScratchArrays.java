package dev.ckpt.tools.gguf;

/**
 * Per-thread arrays that are reused from call to call, grown on demand and never shrunk. The row
 * paths of quantize and GGUF export run once per row or chunk on the writer's worker threads; fresh
 * arrays there were garbage at the rate of the input bytes, which a large young generation keeps
 * resident until the next collection. A buffer lives as long as its thread (the writer's pool threads
 * end with the write). Not for nested use: one owner per instance and thread at a time.
 */
final class ScratchArrays {
    /** Rows handed to a codec and its encoded bytes ({@link RowEncoder}). */
    static final ScratchArrays ENCODER = new ScratchArrays();
    /** Raw quantized rows before dequantization ({@link RowSource#ofGguf}). */
    static final ScratchArrays DEQUANT = new ScratchArrays();

    private final ThreadLocal<float[]> floats = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<byte[]> bytes = ThreadLocal.withInitial(() -> new byte[0]);

    /** This thread's float array of at least {@code n} elements (contents undefined). */
    float[] floats(int n) {
        float[] a = floats.get();
        if (a.length < n) {
            a = new float[n];
            floats.set(a);
        }
        return a;
    }

    /** This thread's byte array of at least {@code n} bytes (contents undefined). */
    byte[] bytes(int n) {
        byte[] a = bytes.get();
        if (a.length < n) {
            a = new byte[n];
            bytes.set(a);
        }
        return a;
    }
}

package dev.ckpt.tools.quant;

import dev.ckpt.formats.gguf.GgmlType;

/**
 * A ggml block quantizer, ported bit-exactly from llama.cpp's reference routines
 * ({@code quantize_row_*_ref} in {@code ggml-quants.c}) as built without fused multiply-add:
 * all arithmetic in binary32, in source order, no {@code Math.fma}, reductions sequential.
 * One final class per type; instances are stateless and thread-safe.
 */
public sealed interface BlockCodec
        permits Q8_0Codec, Q4_0Codec, Q4_1Codec, Q5_0Codec, Q5_1Codec, Q4_KCodec, Q5_KCodec, Q6_KCodec {

    GgmlType type();

    /**
     * Quantizes {@code n} values (a multiple of the block size) of {@code x} from {@code xOff}
     * into {@code n / blockSize} blocks written to {@code dst} from {@code dstOff}.
     */
    void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff);

    /** Decodes {@code n} values from the blocks at {@code src[srcOff]} into {@code y[yOff..]}. */
    void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff);

    /** The codec for a quantized type. @throws IllegalArgumentException for types without a codec */
    static BlockCodec of(GgmlType type) {
        return switch (type) {
            case Q8_0 -> Q8_0Codec.INSTANCE;
            case Q4_0 -> Q4_0Codec.INSTANCE;
            case Q4_1 -> Q4_1Codec.INSTANCE;
            case Q5_0 -> Q5_0Codec.INSTANCE;
            case Q5_1 -> Q5_1Codec.INSTANCE;
            case Q4_K -> Q4_KCodec.INSTANCE;
            case Q5_K -> Q5_KCodec.INSTANCE;
            case Q6_K -> Q6_KCodec.INSTANCE;
            default -> throw new IllegalArgumentException("no block codec for " + type);
        };
    }

    /** True when {@link #of} has a codec for the type. */
    static boolean supports(GgmlType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }
}

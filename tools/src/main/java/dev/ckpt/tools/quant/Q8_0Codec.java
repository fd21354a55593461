package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;
import static dev.ckpt.tools.quant.QuantPrimitives.roundf;

import dev.ckpt.formats.gguf.GgmlType;

/** Q8_0: 34-byte blocks of 32 ({@code d} f16, {@code qs} int8[32]); {@code quantize_row_q8_0_ref}. */
public final class Q8_0Codec implements BlockCodec {
    static final Q8_0Codec INSTANCE = new Q8_0Codec();

    private Q8_0Codec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int xo = xOff + b * 32;
            int o = dstOff + b * 34;
            float amax = 0.0f;
            for (int j = 0; j < 32; j++) {
                float av = Math.abs(x[xo + j]);
                amax = amax > av ? amax : av;
            }
            float d = amax / ((1 << 7) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(dst, o, fp16(d));
            for (int j = 0; j < 32; j++) {
                dst[o + 2 + j] = (byte) roundf(x[xo + j] * id);
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = srcOff + b * 34;
            float d = fp32(getShort(src, o));
            for (int j = 0; j < 32; j++) {
                y[yOff + b * 32 + j] = src[o + 2 + j] * d;
            }
        }
    }
}

package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.cvtt;
import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;

import dev.ckpt.formats.gguf.GgmlType;

/** Q4_1: 20-byte blocks of 32 ({@code d}, {@code m} f16, nibbles); {@code quantize_row_q4_1_ref}. */
public final class Q4_1Codec implements BlockCodec {
    static final Q4_1Codec INSTANCE = new Q4_1Codec();

    private Q4_1Codec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_1;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int xo = xOff + b * 32;
            int o = dstOff + b * 20;
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                float v = x[xo + j];
                if (v < min) {
                    min = v;
                }
                if (v > max) {
                    max = v;
                }
            }
            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(dst, o, fp16(d));
            putShort(dst, o + 2, fp16(min));
            for (int j = 0; j < 16; ++j) {
                float x0 = (x[xo + j] - min) * id;
                float x1 = (x[xo + 16 + j] - min) * id;
                int xi0 = Math.min(15, (byte) cvtt(x0 + 0.5f));
                int xi1 = Math.min(15, (byte) cvtt(x1 + 0.5f));
                dst[o + 4 + j] = (byte) (xi0 | xi1 << 4);
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = srcOff + b * 20;
            float d = fp32(getShort(src, o));
            float m = fp32(getShort(src, o + 2));
            int yo = yOff + b * 32;
            for (int j = 0; j < 16; j++) {
                int q = src[o + 4 + j] & 0xFF;
                y[yo + j] = (q & 0x0F) * d + m;
                y[yo + j + 16] = (q >> 4) * d + m;
            }
        }
    }
}

package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.cvtt;
import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getInt;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.putInt;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;

import dev.ckpt.formats.gguf.GgmlType;

/** Q5_1: 24-byte blocks of 32 ({@code d}, {@code m} f16, {@code qh} u32, nibbles); {@code quantize_row_q5_1_ref}. */
public final class Q5_1Codec implements BlockCodec {
    static final Q5_1Codec INSTANCE = new Q5_1Codec();

    private Q5_1Codec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_1;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int xo = xOff + b * 32;
            int o = dstOff + b * 24;
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
            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(dst, o, fp16(d));
            putShort(dst, o + 2, fp16(min));
            int qh = 0;
            for (int j = 0; j < 16; ++j) {
                float x0 = (x[xo + j] - min) * id;
                float x1 = (x[xo + 16 + j] - min) * id;
                int xi0 = cvtt(x0 + 0.5f) & 0xFF;
                int xi1 = cvtt(x1 + 0.5f) & 0xFF;
                dst[o + 8 + j] = (byte) ((xi0 & 0x0F) | (xi1 & 0x0F) << 4);
                qh |= ((xi0 & 0x10) >>> 4) << j;
                qh |= ((xi1 & 0x10) >>> 4) << (j + 16);
            }
            putInt(dst, o + 4, qh);
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = srcOff + b * 24;
            float d = fp32(getShort(src, o));
            float m = fp32(getShort(src, o + 2));
            int qh = getInt(src, o + 4);
            int yo = yOff + b * 32;
            for (int j = 0; j < 16; j++) {
                int q = src[o + 8 + j] & 0xFF;
                int h0 = ((qh >>> j) << 4) & 0x10;
                int h1 = (qh >>> (j + 12)) & 0x10;
                y[yo + j] = ((q & 0x0F) | h0) * d + m;
                y[yo + j + 16] = ((q >> 4) | h1) * d + m;
            }
        }
    }
}

package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.cvtt;
import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;

import dev.ckpt.formats.gguf.GgmlType;

/** Q4_0: 18-byte blocks of 32 ({@code d} f16, nibbles); {@code quantize_row_q4_0_ref}. */
public final class Q4_0Codec implements BlockCodec {
    static final Q4_0Codec INSTANCE = new Q4_0Codec();

    private Q4_0Codec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        for (int b = 0; b < n / 32; b++) {
            int xo = xOff + b * 32;
            int o = dstOff + b * 18;
            float amax = 0.0f;
            float max = 0.0f;
            for (int j = 0; j < 32; j++) {
                float v = x[xo + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            putShort(dst, o, fp16(d));
            if (Math.abs(id) <= Float.MAX_VALUE) {
                // finite id: |x·id| <= about 8 (|x| <= |max|), so x·id + 8.5 is in int range (or NaN, which
                // both conversions turn into a code of 0) and a plain cast equals cvtt; the byte cast is
                // the identity on 0..16
                for (int j = 0; j < 16; ++j) {
                    int xi0 = Math.min(15, (int) (x[xo + j] * id + 8.5f));
                    int xi1 = Math.min(15, (int) (x[xo + 16 + j] * id + 8.5f));
                    dst[o + 2 + j] = (byte) (xi0 | xi1 << 4);
                }
                continue;
            }
            for (int j = 0; j < 16; ++j) {
                float x0 = x[xo + j] * id;
                float x1 = x[xo + 16 + j] * id;
                int xi0 = Math.min(15, (byte) cvtt(x0 + 8.5f));
                int xi1 = Math.min(15, (byte) cvtt(x1 + 8.5f));
                dst[o + 2 + j] = (byte) (xi0 | xi1 << 4);
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 32; b++) {
            int o = srcOff + b * 18;
            float d = fp32(getShort(src, o));
            int yo = yOff + b * 32;
            for (int j = 0; j < 16; j++) {
                int q = src[o + 2 + j] & 0xFF;
                y[yo + j] = ((q & 0x0F) - 8) * d;
                y[yo + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }
}

package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;
import static dev.ckpt.tools.quant.QuantPrimitives.scaleMinK4;

import dev.ckpt.formats.gguf.GgmlType;

/**
 * Q4_K: 144-byte super-blocks of 256 ({@code d}, {@code dmin} f16, 12 bytes of 6-bit scales/mins,
 * 128 bytes of nibbles); {@code quantize_row_q4_K_ref} (and Q5_K, which shares the scale search).
 */
public final class Q4_KCodec implements BlockCodec {
    static final Q4_KCodec INSTANCE = new Q4_KCodec();

    /** Elements per lane search (a multiple of 256). */
    private static final int MAX_SLICE = 1 << 16;

    private Q4_KCodec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        // slices bound the per-thread lane scratch (about 20 bytes per element of one slice)
        for (int done = 0; done < n; done += MAX_SLICE) {
            int m = Math.min(MAX_SLICE, n - done);
            quantizeSlice(x, xOff + done, m, dst, dstOff + done / 256 * 144);
        }
    }

    private void quantizeSlice(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        Qkx2Lanes lanes = Qkx2Lanes.get();
        int[] L = lanes.codesBuffer(n);
        float[] scales = lanes.scalesBuffer(n / 32);
        float[] mins = lanes.minsBuffer(n / 32);
        lanes.search(x, xOff, n, 15, -1.f, 0.1f, 20, L, scales, mins);
        for (int b = 0; b < n / 256; b++) {
            int o = dstOff + b * 144;
            packScales(x, xOff + b * 256, 15, L, b * 256, scales, mins, b * 8, dst, o);
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) {
                    dst[o + 16 + j / 2 + l] = (byte) (L[b * 256 + j + l] | L[b * 256 + j + l + 32] << 4);
                }
            }
        }
    }

    /**
     * The part Q4_K and Q5_K share after the sub-block search ({@link Qkx2Lanes}): 6-bit packing of the
     * super-block's 8 scales and mins ({@code scales[so..so+8)}, {@code mins[so..]}) into
     * {@code dst[o+4..o+16)}, {@code d}/{@code dmin} at {@code o}, and the final codes in
     * {@code L[lo..lo+256)} (re-quantized with the rounded scales).
     */
    static void packScales(float[] x, int xo, int nmax, int[] L, int lo, float[] scales, float[] mins, int so,
                           byte[] dst, int o) {
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            if (scales[so + j] > maxScale) {
                maxScale = scales[so + j];
            }
            if (mins[so + j] > maxMin) {
                maxMin = mins[so + j];
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int s = o + 4;
        for (int j = 0; j < 12; j++) {
            dst[s + j] = 0;
        }
        for (int j = 0; j < 8; ++j) {
            int ls = Math.min(63, nearestInt(invScale * scales[so + j]) & 0xFF);
            int lm = Math.min(63, nearestInt(invMin * mins[so + j]) & 0xFF);
            if (j < 4) {
                dst[s + j] = (byte) ls;
                dst[s + j + 4] = (byte) lm;
            } else {
                dst[s + j + 4] = (byte) ((ls & 0xF) | ((lm & 0xF) << 4));
                dst[s + j - 4] |= (byte) ((ls >> 4) << 6);
                dst[s + j] |= (byte) ((lm >> 4) << 6);
            }
        }
        short dh = fp16(maxScale / 63.f);
        short dminh = fp16(maxMin / 63.f);
        putShort(dst, o, dh);
        putShort(dst, o + 2, dminh);
        for (int j = 0; j < 8; ++j) {
            int scm = scaleMinK4(j, dst, s);
            float d = fp32(dh) * (scm & 0xFF);
            if (d == 0) {
                continue;
            }
            float dm = fp32(dminh) * (scm >>> 8);
            for (int ii = 0; ii < 32; ++ii) {
                int l = nearestInt((x[xo + 32 * j + ii] + dm) / d);
                L[lo + 32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 256; b++) {
            int o = srcOff + b * 144;
            float d = fp32(getShort(src, o));
            float min = fp32(getShort(src, o + 2));
            int yo = yOff + b * 256;
            for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
                int a = scaleMinK4(is, src, o + 4);
                float d1 = d * (a & 0xFF);
                float m1 = min * (a >>> 8);
                int c = scaleMinK4(is + 1, src, o + 4);
                float d2 = d * (c & 0xFF);
                float m2 = min * (c >>> 8);
                int q = o + 16 + j / 2;
                for (int l = 0; l < 32; ++l) {
                    y[yo + j + l] = d1 * (src[q + l] & 0xF) - m1;
                }
                for (int l = 0; l < 32; ++l) {
                    y[yo + j + 32 + l] = d2 * ((src[q + l] & 0xFF) >> 4) - m2;
                }
            }
        }
    }
}

package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.makeQkx2Quants;
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

    private Q4_KCodec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_K;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        int[] L = new int[256];
        Scratch s = new Scratch();
        for (int b = 0; b < n / 256; b++) {
            int o = dstOff + b * 144;
            quantizeScales(x, xOff + b * 256, 15, -1.f, 0.1f, 20, L, dst, o, s);
            for (int j = 0; j < 256; j += 64) {
                for (int l = 0; l < 32; ++l) {
                    dst[o + 16 + j / 2 + l] = (byte) (L[j + l] | L[j + l + 32] << 4);
                }
            }
        }
    }

    /**
     * The part Q4_K and Q5_K share: per 32-element sub-block scale/min search, 6-bit packing of scales
     * and mins into {@code dst[o+4..o+16)}, {@code d}/{@code dmin} at {@code o}, and the final codes in
     * {@code L} (re-quantized with the rounded scales).
     */
    static void quantizeScales(float[] x, int xo, int nmax, float rmin, float rdelta, int nstep, int[] L,
                               byte[] dst, int o, Scratch s0) {
        float[] weights = s0.weights;
        float[] mins = s0.mins;
        float[] scales = s0.scales;
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; j += 2) {
            weights(x, xo + 32 * j, weights);
            weights(x, xo + 32 * (j + 1), s0.weightsB);
            s0.pair.run(nmax, x, xo + 32 * j, xo + 32 * (j + 1), weights, s0.weightsB, L, 32 * j, 32 * (j + 1),
                    scales, mins, j, j + 1, rmin, rdelta, nstep);
            for (int k = j; k <= j + 1; k++) {
                if (scales[k] > maxScale) {
                    maxScale = scales[k];
                }
                if (mins[k] > maxMin) {
                    maxMin = mins[k];
                }
            }
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        int s = o + 4;
        for (int j = 0; j < 12; j++) {
            dst[s + j] = 0;
        }
        for (int j = 0; j < 8; ++j) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
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
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /** The weights {@code av_x + |x|} of one 32-element sub-block, {@code av_x = sqrt(mean(x²))}. */
    private static void weights(float[] x, int off, float[] w) {
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l) {
            float v = x[off + l];
            sumX2 += v * v;
        }
        float avX = (float) Math.sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l) {
            w[l] = avX + Math.abs(x[off + l]);
        }
    }

    /** Per-call scratch of the super-block search. */
    static final class Scratch {
        final float[] weightsB = new float[32];
        final Qkx2Pair pair = new Qkx2Pair();
        final float[] weights = new float[32];
        final float[] mins = new float[8];
        final float[] scales = new float[8];
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

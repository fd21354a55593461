package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.GROUP_MAX_EPS;
import static dev.ckpt.tools.quant.QuantPrimitives.fp16;
import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;
import static dev.ckpt.tools.quant.QuantPrimitives.putShort;

import dev.ckpt.formats.gguf.GgmlType;

/**
 * Q6_K: 210-byte super-blocks of 256 ({@code ql} u8[128], {@code qh} u8[64], {@code scales} int8[16],
 * {@code d} f16 last); {@code quantize_row_q6_K_ref}.
 */
public final class Q6_KCodec implements BlockCodec {
    static final Q6_KCodec INSTANCE = new Q6_KCodec();

    /** Elements per lane search (a multiple of 256). */
    private static final int MAX_SLICE = 1 << 16;

    private Q6_KCodec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q6_K;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        // slices bound the per-thread lane scratch (about 20 bytes per element of one slice)
        for (int done = 0; done < n; done += MAX_SLICE) {
            int m = Math.min(MAX_SLICE, n - done);
            quantizeSlice(x, xOff + done, m, dst, dstOff + done / 256 * 210);
        }
    }

    private void quantizeSlice(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        int[] L = new int[256];
        float[] scales = new float[16];
        QxLanes lanes = QxLanes.get();
        int[] rowL = lanes.codesBuffer(n);
        float[] rowScales = lanes.scalesBuffer(n / 16);
        lanes.search(x, xOff, n, 32, rowL, rowScales);
        for (int b = 0; b < n / 256; b++) {
            int xo = xOff + b * 256;
            int o = dstOff + b * 210;
            System.arraycopy(rowL, b * 256, L, 0, 256);
            System.arraycopy(rowScales, b * 16, scales, 0, 16);
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < 16; ++ib) {
                float scale = scales[ib];
                float absScale = Math.abs(scale);
                if (absScale > maxAbsScale) {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }
            if (maxAbsScale < GROUP_MAX_EPS) {
                java.util.Arrays.fill(dst, o, o + 210, (byte) 0);
                continue;
            }
            float iscale = -128.f / maxScale;
            short dh = fp16(1 / iscale);
            putShort(dst, o + 208, dh);
            int sc = o + 192;
            for (int ib = 0; ib < 16; ++ib) {
                dst[sc + ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
            }
            for (int j = 0; j < 16; ++j) {
                float d = fp32(dh) * dst[sc + j];
                if (d == 0) {
                    continue;
                }
                for (int ii = 0; ii < 16; ++ii) {
                    int l = nearestInt(x[xo + 16 * j + ii] / d);
                    l = Math.max(-32, Math.min(31, l));
                    L[16 * j + ii] = l + 32;
                }
            }
            int ql = o;
            int qh = o + 128;
            for (int j = 0; j < 256; j += 128) {
                for (int l = 0; l < 32; ++l) {
                    int q1 = L[j + l] & 0xF;
                    int q2 = L[j + l + 32] & 0xF;
                    int q3 = L[j + l + 64] & 0xF;
                    int q4 = L[j + l + 96] & 0xF;
                    dst[ql + l] = (byte) (q1 | (q3 << 4));
                    dst[ql + l + 32] = (byte) (q2 | (q4 << 4));
                    dst[qh + l] = (byte) ((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2)
                            | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
                ql += 64;
                qh += 32;
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 256; b++) {
            int o = srcOff + b * 210;
            float d = fp32(getShort(src, o + 208));
            int ql = o;
            int qh = o + 128;
            int sc = o + 192;
            int yo = yOff + b * 256;
            for (int nn = 0; nn < 256; nn += 128) {
                for (int l = 0; l < 32; ++l) {
                    int is = l / 16;
                    int h = src[qh + l] & 0xFF;
                    int a = src[ql + l] & 0xFF;
                    int c = src[ql + l + 32] & 0xFF;
                    int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((c & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((c >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    y[yo + nn + l] = d * src[sc + is] * q1;
                    y[yo + nn + l + 32] = d * src[sc + is + 2] * q2;
                    y[yo + nn + l + 64] = d * src[sc + is + 4] * q3;
                    y[yo + nn + l + 96] = d * src[sc + is + 6] * q4;
                }
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }
}

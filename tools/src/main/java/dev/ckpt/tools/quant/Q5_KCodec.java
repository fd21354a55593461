package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.fp32;
import static dev.ckpt.tools.quant.QuantPrimitives.getShort;
import static dev.ckpt.tools.quant.QuantPrimitives.scaleMinK4;

import dev.ckpt.formats.gguf.GgmlType;

/**
 * Q5_K: 176-byte super-blocks of 256 ({@code d}, {@code dmin} f16, 12 bytes of scales, {@code qh}
 * u8[32] high bits, {@code qs} u8[128] nibbles); {@code quantize_row_q5_K_ref}.
 */
public final class Q5_KCodec implements BlockCodec {
    static final Q5_KCodec INSTANCE = new Q5_KCodec();

    /** Elements per lane search (a multiple of 256). */
    private static final int MAX_SLICE = 1 << 16;

    private Q5_KCodec() {
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q5_K;
    }

    @Override
    public void quantize(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        // slices bound the per-thread lane scratch (about 20 bytes per element of one slice)
        for (int done = 0; done < n; done += MAX_SLICE) {
            int m = Math.min(MAX_SLICE, n - done);
            quantizeSlice(x, xOff + done, m, dst, dstOff + done / 256 * 176);
        }
    }

    private void quantizeSlice(float[] x, int xOff, int n, byte[] dst, int dstOff) {
        int[] L = new int[256];
        Qkx2Lanes lanes = Qkx2Lanes.get();
        int[] rowL = lanes.codesBuffer(n);
        float[] scales = lanes.scalesBuffer(n / 32);
        float[] mins = lanes.minsBuffer(n / 32);
        lanes.search(x, xOff, n, 31, -0.5f, 0.1f, 15, rowL, scales, mins);
        for (int b = 0; b < n / 256; b++) {
            int o = dstOff + b * 176;
            Q4_KCodec.packScales(x, xOff + b * 256, 31, rowL, b * 256, scales, mins, b * 8, dst, o);
            System.arraycopy(rowL, b * 256, L, 0, 256);
            int qh = o + 16;
            int ql = o + 48;
            for (int j = 0; j < 32; j++) {
                dst[qh + j] = 0;
            }
            int m1 = 1;
            int m2 = 2;
            for (int nn = 0; nn < 256; nn += 64) {
                for (int j = 0; j < 32; ++j) {
                    int l1 = L[nn + j];
                    if (l1 > 15) {
                        l1 -= 16;
                        dst[qh + j] |= (byte) m1;
                    }
                    int l2 = L[nn + j + 32];
                    if (l2 > 15) {
                        l2 -= 16;
                        dst[qh + j] |= (byte) m2;
                    }
                    dst[ql + j] = (byte) (l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
                ql += 32;
            }
        }
    }

    @Override
    public void dequantize(byte[] src, int srcOff, int n, float[] y, int yOff) {
        for (int b = 0; b < n / 256; b++) {
            int o = srcOff + b * 176;
            float d = fp32(getShort(src, o));
            float min = fp32(getShort(src, o + 2));
            int qh = o + 16;
            int ql = o + 48;
            int yo = yOff + b * 256;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
                int a = scaleMinK4(is, src, o + 4);
                float d1 = d * (a & 0xFF);
                float m1 = min * (a >>> 8);
                int c = scaleMinK4(is + 1, src, o + 4);
                float d2 = d * (c & 0xFF);
                float m2 = min * (c >>> 8);
                for (int l = 0; l < 32; ++l) {
                    int h = src[qh + l] & 0xFF;
                    y[yo + j + l] = d1 * ((src[ql + l] & 0xF) + ((h & u1) != 0 ? 16 : 0)) - m1;
                    y[yo + j + 32 + l] = d2 * (((src[ql + l] & 0xFF) >> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }
}

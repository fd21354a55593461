package dev.ckpt.tools.quant;

/**
 * The numeric primitives of ggml's quantizers (formats-hub E0), shared by the codecs.
 */
final class QuantPrimitives {
    static final float GROUP_MAX_EPS = 1e-15f;
    /** The candidate steps of {@code make_qx_quants}, in the C loop's order (-9..9 without 0). */
    private static final int[] QX_STEPS = {-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9};

    private QuantPrimitives() {
    }

    /** {@code ggml_compute_fp32_to_fp16}: round-to-nearest-even incl. subnormals; NaN -> sign|0x7E00. */
    static short fp16(float f) {
        if (Float.isNaN(f)) {
            return (short) (((Float.floatToRawIntBits(f) >>> 16) & 0x8000) | 0x7E00);
        }
        return Float.floatToFloat16(f);
    }

    static float fp32(short h) {
        return Float.float16ToFloat(h);
    }

    /** {@code nearest_int}: round half to even through the 1.5·2^23 float-add trick (|f| ≤ 4194303). */
    static int nearestInt(float f) {
        float val = f + 12582912.0f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007FFFFF) - 0x00400000;
    }

    /**
     * C {@code roundf}: half away from zero (the +0.5 in double, as 0.49999997f + 0.5f rounds up in
     * float), then converted like {@link #cvtt}.
     */
    static int roundf(float v) {
        if (!(Math.abs(v) < 2147483648f)) {
            return Integer.MIN_VALUE;
        }
        int r = (int) (Math.abs((double) v) + 0.5);
        return v < 0 ? -r : r;
    }

    /**
     * A C float-to-integer conversion as x86-64 executes it ({@code cvttss2si}): truncation toward zero,
     * and the "integer indefinite" {@code 0x80000000} for NaN and out-of-range values (Java would give
     * 0 or saturate). Blocks of f32 subnormals make {@code id} infinite and reach this case; the C
     * standard calls it undefined, llama.cpp's builds produce code byte 0 there.
     */
    static int cvtt(float v) {
        return Math.abs(v) < 2147483648f ? (int) v : Integer.MIN_VALUE;
    }

    static void putShort(byte[] b, int off, short v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
    }

    static short getShort(byte[] b, int off) {
        return (short) ((b[off] & 0xFF) | (b[off + 1] << 8));
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }

    static int getInt(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }

    /**
     * {@code make_qkx2_quants} with {@code use_mad = false}: codes L[lOff..lOff+n) in [0, nmax] for
     * {@code x[xOff..]} with weights {@code w}; returns the scale and stores the (non-negative) min in
     * {@code minOut[minIdx]}. {@code laux} and {@code xm} are scratch of length ≥ n. Sub-expressions
     * the C code evaluates repeatedly ({@code x - min}, {@code w*l}) are computed once: the same float
     * operations on the same operands, so the results are identical.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xOff, float[] w, int[] L, int lOff,
                                float[] minOut, int minIdx, int[] laux, float[] xm, float rmin, float rdelta, int nstep) {
        float min = x[xOff];
        float max = x[xOff];
        float sumW = w[0];
        float sumX = sumW * x[xOff];
        for (int i = 1; i < n; ++i) {
            float xi = x[xOff + i];
            if (xi < min) {
                min = xi;
            }
            if (xi > max) {
                max = xi;
            }
            float wi = w[i];
            sumW += wi;
            sumX += wi * xi;
        }
        if (min > 0) {
            min = 0;
        }
        if (max == min) {
            for (int i = 0; i < n; ++i) {
                L[lOff + i] = 0;
            }
            minOut[minIdx] = -min;
            return 0.f;
        }
        for (int i = 0; i < n; ++i) {
            xm[i] = x[xOff + i] - min;
        }
        float range = max - min;
        float iscale = nmax / range;
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * xm[i]);
            l = Math.max(0, Math.min(nmax, l));
            L[lOff + i] = l;
            float diff = scale * l + min - x[xOff + i];
            diff = diff * diff;
            bestError += w[i] * diff;
        }
        if (nstep < 1) {
            minOut[minIdx] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / range;
            float sumL = 0;
            float sumL2 = 0;
            float sumXl = 0;
            // codes first (an element-wise loop the JIT can vectorize), then the sequential sums
            for (int i = 0; i < n; ++i) {
                laux[i] = Math.max(0, Math.min(nmax, nearestInt(iscale * xm[i])));
            }
            for (int i = 0; i < n; ++i) {
                int l = laux[i];
                float wl = w[i] * l;
                sumL += wl;
                sumL2 += wl * l;
                sumXl += wl * x[xOff + i];
            }
            float d = sumW * sumL2 - sumL * sumL;
            if (d > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / d;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / d;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * laux[i] + thisMin - x[xOff + i];
                    diff = diff * diff;
                    curError += w[i] * diff;
                }
                if (curError < bestError) {
                    System.arraycopy(laux, 0, L, lOff, n);
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                    // the C code reads the updated min in later steps' (max - min) and (x - min)
                    range = max - min;
                    for (int i = 0; i < n; ++i) {
                        xm[i] = x[xOff + i] - min;
                    }
                }
            }
        }
        minOut[minIdx] = -min;
        return scale;
    }

    /**
     * {@code make_qx_quants} with {@code rmse_type = 1} and no importance weights (Q6_K): codes
     * L[lOff..] in [0, 2·nmax); returns the (signed) scale. {@code w}, {@code wx}: scratch of length ≥ n
     * (the weights {@code x*x} and {@code w*x}, computed once instead of per step: identical values).
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xOff, int[] L, int lOff, float[] w, float[] wx) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xOff + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOff + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                L[lOff + i] = 0;
            }
            return 0.f;
        }
        for (int i = 0; i < n; ++i) {
            float xi = x[xOff + i];
            w[i] = xi * xi;
            wx[i] = w[i] * xi;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * x[xOff + i]);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lOff + i] = l + nmax;
            sumlx += wx[i] * l;
            suml2 += w[i] * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        // The 18 candidate scales' sums do not depend on each other, only the acceptance test does:
        // two candidates are summed per pass (four independent sequential chains, each in index order,
        // so every sum is the C value), then accepted or not in the C order. The codes of the last
        // accepted candidate are written at the end, as the C loop's last overwrite leaves them.
        float bestIscale = Float.NaN;
        for (int k = 0; k < QX_STEPS.length; k += 2) {
            int isA = QX_STEPS[k];
            int isB = QX_STEPS[k + 1];
            float ia = -(nmax + 0.1f * isA) / max;
            float ib = -(nmax + 0.1f * isB) / max;
            float sa = 0;
            float qa = 0;
            float sb = 0;
            float qb = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xOff + i];
                int la = Math.max(-nmax, Math.min(nmax - 1, nearestInt(ia * xi)));
                int lb = Math.max(-nmax, Math.min(nmax - 1, nearestInt(ib * xi)));
                sa += wx[i] * la;
                qa += w[i] * la * la;
                sb += wx[i] * lb;
                qb += w[i] * lb * lb;
            }
            if (qa > 0 && sa * sa > best * qa) {
                bestIscale = ia;
                scale = sa / qa;
                best = scale * sa;
            }
            if (qb > 0 && sb * sb > best * qb) {
                bestIscale = ib;
                scale = sb / qb;
                best = scale * sb;
            }
        }
        if (!Float.isNaN(bestIscale)) {
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(bestIscale * x[xOff + i]);
                L[lOff + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
            }
        }
        return scale;
    }

    /** {@code get_scale_min_k4}: returns {@code sc | m << 8} for sub-block j of a 12-byte scales array. */
    static int scaleMinK4(int j, byte[] s, int off) {
        int sc;
        int m;
        if (j < 4) {
            sc = s[off + j] & 63;
            m = s[off + j + 4] & 63;
        } else {
            sc = (s[off + j + 4] & 0xF) | (((s[off + j - 4] & 0xFF) >> 6) << 4);
            m = ((s[off + j + 4] & 0xFF) >> 4) | (((s[off + j] & 0xFF) >> 6) << 4);
        }
        return sc | m << 8;
    }
}

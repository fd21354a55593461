package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.makeQkx2Quants;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;

/**
 * The Q4_K/Q5_K sub-block search ({@code av_x + |x|} weights, then {@code make_qkx2_quants} with
 * use_mad = false) for all 32-element sub-blocks of a row at once, the sub-blocks as lanes: the row is
 * transposed so that element {@code i} of every sub-block is contiguous, and each loop runs over the
 * sub-blocks for one element index. Every running sum of every sub-block is still one sequential chain
 * in index order with the C operands, and each sub-block keeps its own min, scale, best error and codes,
 * so every value is the C value; the loops over sub-blocks are element-wise across independent lanes,
 * which the JIT vectorizes without changing any per-lane IEEE result.
 *
 * <p>{@code nearest_int}'s bit trick is evaluated as {@code (f + 1.5·2^23) - 1.5·2^23} in float where every
 * product of the step is provably below 2^22 in magnitude (there the sum is an exact integer and both
 * agree); otherwise the step uses the bit trick itself. Sub-blocks with NaN or all values equal take the
 * scalar {@link QuantPrimitives#makeQkx2Quants}. One instance per thread (mutable scratch).
 */
final class Qkx2Lanes {
    private static final int N = 32;
    /** Below 2^22 (where that float round trip and nearest_int's bit trick agree), with a margin for the bound's rounding. */
    private static final float NEAREST_INT_LIMIT = 4.0e6f;
    private static final ThreadLocal<Qkx2Lanes> PER_THREAD = ThreadLocal.withInitial(Qkx2Lanes::new);

    private int lanes = -1;
    private int[] rowCodes = new int[0];
    private float[] rowScales = new float[0];
    private float[] rowMins = new float[0];
    private float[][] xt;
    private float[][] wt;
    private float[][] xm;
    private float[][] codes;
    private float[] min;
    private float[] max;
    private float[] xMin;
    private float[] span;
    private float[] range;
    private float[] sumW;
    private float[] sumX;
    private float[] best;
    private float[] scale;
    private float[] isc;
    private float[] okFlag;
    private float[] bestIsc;
    private float[] bestXmMin;
    private float[] sL;
    private float[] sL2;
    private float[] sXl;
    private float[] ts;
    private float[] tm;
    private float[] err;
    private boolean[] active;
    private final float[] wTmp = new float[N];
    private final float[] xmTmp = new float[N];
    private final int[] lauxTmp = new int[N];

    /** A per-thread buffer of at least {@code n} codes (contents unspecified), for the caller's row codes. */
    int[] codesBuffer(int n) {
        if (rowCodes.length < n) {
            rowCodes = new int[n];
        }
        return rowCodes;
    }

    /** A per-thread buffer of at least {@code n} floats (contents unspecified), for the caller's scales. */
    float[] scalesBuffer(int n) {
        if (rowScales.length < n) {
            rowScales = new float[n];
        }
        return rowScales;
    }

    /** A per-thread buffer of at least {@code n} floats (contents unspecified), for the caller's mins. */
    float[] minsBuffer(int n) {
        if (rowMins.length < n) {
            rowMins = new float[n];
        }
        return rowMins;
    }

    /** This thread's instance. */
    static Qkx2Lanes get() {
        return PER_THREAD.get();
    }

    private void ensure(int s) {
        if (s <= lanes) {
            return;
        }
        lanes = s;
        xt = new float[N][s];
        wt = new float[N][s];
        xm = new float[N][s];
        codes = new float[N][s];
        min = new float[s];
        max = new float[s];
        xMin = new float[s];
        span = new float[s];
        range = new float[s];
        sumW = new float[s];
        sumX = new float[s];
        best = new float[s];
        scale = new float[s];
        isc = new float[s];
        okFlag = new float[s];
        bestIsc = new float[s];
        bestXmMin = new float[s];
        sL = new float[s];
        sL2 = new float[s];
        sXl = new float[s];
        ts = new float[s];
        tm = new float[s];
        err = new float[s];
        active = new boolean[s];
    }

    /**
     * Searches the {@code n / 32} sub-blocks of {@code x[xOff..xOff+n)}: codes to {@code L[0..n)},
     * scale of sub-block {@code s} to {@code scales[s]}, its (non-negative) min to {@code mins[s]}.
     */
    void search(float[] x, int xOff, int n, int nmax, float rmin, float rdelta, int nstep, int[] L, float[] scales,
                float[] mins) {
        int S = n / N;
        ensure(S);
        float[][] xt = this.xt;
        float[][] wt = this.wt;
        float[][] xm = this.xm;
        for (int s = 0; s < S; ++s) {
            for (int i = 0; i < N; ++i) {
                xt[i][s] = x[xOff + s * N + i];
            }
        }
        // weights: av_x = sqrt(Σx²/32), w = av_x + |x|
        float[] acc = sL;
        java.util.Arrays.fill(acc, 0, S, 0f);
        for (int i = 0; i < N; ++i) {
            float[] xr = xt[i];
            for (int s = 0; s < S; ++s) {
                float v = xr[s];
                acc[s] += v * v;
            }
        }
        float[] avX = sL2;
        for (int s = 0; s < S; ++s) {
            avX[s] = (float) Math.sqrt(acc[s] / 32);
        }
        for (int i = 0; i < N; ++i) {
            float[] xr = xt[i];
            float[] wr = wt[i];
            for (int s = 0; s < S; ++s) {
                wr[s] = avX[s] + Math.abs(xr[s]);
            }
        }
        // min, max, Σw, Σw·x
        for (int s = 0; s < S; ++s) {
            float v = xt[0][s];
            min[s] = v;
            max[s] = v;
            sumW[s] = wt[0][s];
            sumX[s] = wt[0][s] * v;
            active[s] = v == v;
        }
        for (int i = 1; i < N; ++i) {
            float[] xr = xt[i];
            float[] wr = wt[i];
            for (int s = 0; s < S; ++s) {
                float v = xr[s];
                float wv = wr[s];
                if (v < min[s]) {
                    min[s] = v;
                }
                if (v > max[s]) {
                    max[s] = v;
                }
                sumW[s] += wv;
                sumX[s] += wv * v;
                active[s] &= v == v;
            }
        }
        boolean any = false;
        for (int s = 0; s < S; ++s) {
            xMin[s] = min[s];
            if (min[s] > 0) {
                min[s] = 0;
            }
            active[s] &= max[s] != min[s] && nstep >= 1;
            any |= active[s];
            if (active[s]) {
                range[s] = max[s] - min[s];
                span[s] = Math.max(Math.abs(xMin[s] - min[s]), Math.abs(max[s] - min[s]));
                float is0 = nmax / range[s];
                isc[s] = is0;
                scale[s] = 1 / is0;
            } else {
                span[s] = 0;
                isc[s] = 0;
                scale[s] = 0;
            }
            best[s] = 0;
        }
        if (any) {
            // the first guess: iscale = nmax / (max - min), scale = 1 / iscale
            for (int i = 0; i < N; ++i) {
                float[] xr = xt[i];
                float[] wr = wt[i];
                float[] mr = xm[i];
                float[] cr = codes[i];
                for (int s = 0; s < S; ++s) {
                    float v = xr[s];
                    float xmv = v - min[s];
                    mr[s] = xmv;
                    int l = Math.max(0, Math.min(nmax, nearestInt(isc[s] * xmv)));
                    cr[s] = l;
                    float diff = scale[s] * l + min[s] - v;
                    diff = diff * diff;
                    best[s] += wr[s] * diff;
                }
            }
            // the codes of the best step so far are re-derived at the end from its iscale and the min
            // that step's (x - min) used: the same float operations, so the same codes
            for (int s = 0; s < S; ++s) {
                bestIsc[s] = isc[s];
                bestXmMin[s] = min[s];
            }
            for (int is = 0; is <= nstep; ++is) {
                step(nmax, rmin + rdelta * is + nmax, S);
            }
            for (int s = 0; s < S; ++s) {
                if (active[s]) {
                    float c = bestIsc[s];
                    float m = bestXmMin[s];
                    for (int i = 0; i < N; ++i) {
                        L[s * N + i] = Math.max(0, Math.min(nmax, nearestInt(c * (x[xOff + s * N + i] - m))));
                    }
                }
            }
        }
        for (int s = 0; s < S; ++s) {
            if (active[s]) {
                scales[s] = scale[s];
                mins[s] = -min[s];
            } else {
                for (int i = 0; i < N; ++i) {
                    wTmp[i] = wt[i][s];
                }
                scales[s] = makeQkx2Quants(N, nmax, x, xOff + s * N, wTmp, L, s * N, mins, s, lauxTmp, xmTmp, rmin,
                        rdelta, nstep);
            }
        }
    }

    /** One step of the C loop for every active lane, {@code num = rmin + rdelta*is + nmax}. */
    private void step(int nmax, float num, int S) {
        float[] isc = this.isc;
        float[] sL = this.sL;
        float[] sL2 = this.sL2;
        float[] sXl = this.sXl;
        boolean bounded = true;
        for (int s = 0; s < S; ++s) {
            float v = active[s] ? num / range[s] : 0f;
            isc[s] = v;
            bounded &= Math.abs(v) * span[s] < NEAREST_INT_LIMIT;
            sL[s] = 0;
            sL2[s] = 0;
            sXl[s] = 0;
            err[s] = 0;
        }
        float top = nmax;
        for (int i = 0; i < N; ++i) {
            float[] mr = xm[i];
            float[] cr = codes[i];
            if (bounded) {
                // |isc·xm| < 2^22: (f + 1.5·2^23) - 1.5·2^23 is exact and equals nearest_int(f) as a float
                for (int s = 0; s < S; ++s) {
                    cr[s] = Math.max(0f, Math.min(top, (isc[s] * mr[s] + 12582912.0f) - 12582912.0f));
                }
            } else {
                for (int s = 0; s < S; ++s) {
                    cr[s] = Math.max(0, Math.min(nmax, nearestInt(isc[s] * mr[s])));
                }
            }
        }
        for (int i = 0; i < N; ++i) {
            float[] wr = wt[i];
            float[] xr = xt[i];
            float[] cr = codes[i];
            for (int s = 0; s < S; ++s) {
                float l = cr[s];
                float wl = wr[s] * l;
                sL[s] += wl;
                sL2[s] += wl * l;
                sXl[s] += wl * xr[s];
            }
        }
        float[] ts = this.ts;
        float[] tm = this.tm;
        for (int s = 0; s < S; ++s) {
            float d = sumW[s] * sL2[s] - sL[s] * sL[s];
            float a = 0;
            float m = 0;
            if (d > 0) {
                a = (sumW[s] * sXl[s] - sumX[s] * sL[s]) / d;
                m = (sL2[s] * sumX[s] - sL[s] * sXl[s]) / d;
                if (m > 0) {
                    m = 0;
                    a = sXl[s] / sL2[s];
                }
            }
            ts[s] = a;
            tm[s] = m;
            // d <= 0 (or an inactive lane): never accepted
            okFlag[s] = d > 0 && active[s] ? 1f : 0f;
        }
        float[] e = err;
        for (int i = 0; i < N; ++i) {
            float[] wr = wt[i];
            float[] xr = xt[i];
            float[] cr = codes[i];
            for (int s = 0; s < S; ++s) {
                float diff = ts[s] * cr[s] + tm[s] - xr[s];
                diff = diff * diff;
                e[s] += wr[s] * diff;
            }
        }
        for (int s = 0; s < S; ++s) {
            if (okFlag[s] != 0f && e[s] < best[s]) {
                bestIsc[s] = isc[s];
                bestXmMin[s] = min[s];
                best[s] = e[s];
                scale[s] = ts[s];
                float m = tm[s];
                min[s] = m;
                range[s] = max[s] - m;
                span[s] = Math.max(Math.abs(xMin[s] - m), Math.abs(max[s] - m));
                for (int i = 0; i < N; ++i) {
                    xm[i][s] = xt[i][s] - m;
                }
            }
        }
    }
}

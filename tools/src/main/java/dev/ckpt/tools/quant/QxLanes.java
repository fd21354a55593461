package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.GROUP_MAX_EPS;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;

/**
 * {@code make_qx_quants} ({@code rmse_type = 1}, no importance weights; Q6_K) for all 16-element
 * sub-blocks of a row at once, the sub-blocks as lanes: the row is transposed so that element {@code i}
 * of every sub-block is contiguous, and each candidate scale's sums run over the sub-blocks for one
 * element index at a time. Every sum of every sub-block is one sequential chain in index order with the
 * C operands ({@code (w*x)*l}, {@code (w*l)*l}, {@code w = x*x}), and the candidates are accepted in the
 * C order per sub-block, so every value is the C value; the loops over sub-blocks are element-wise across
 * independent lanes, which the JIT vectorizes without changing any per-lane IEEE result.
 *
 * <p>{@code nearest_int} is evaluated as {@code (f + 1.5·2^23) - 1.5·2^23} in float, exact and equal to
 * the bit trick here because |f| ≤ about 33 (finite x, |x| ≤ |max|). Rows with NaN or infinities take
 * the per-sub-block {@link QxSearch}. One instance per thread (mutable scratch).
 */
final class QxLanes {
    private static final int N = 16;
    private static final int[] QX_STEPS = {-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    private static final ThreadLocal<QxLanes> PER_THREAD = ThreadLocal.withInitial(QxLanes::new);

    private int lanes = -1;
    private int[] rowCodes = new int[0];
    private float[] rowScales = new float[0];
    private float[] rowMins = new float[0];
    private float[][] xt;
    private float[][] wt;
    private float[][] wxt;
    private float[] max;
    private float[] amax;
    private float[] is;
    private float[] sx;
    private float[] s2;
    private float[] best;
    private float[] scale;
    private float[] chosen;
    private boolean[] active;
    private final QxSearch single = new QxSearch();

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
    static QxLanes get() {
        return PER_THREAD.get();
    }

    private void ensure(int s) {
        if (s <= lanes) {
            return;
        }
        lanes = s;
        xt = new float[N][s];
        wt = new float[N][s];
        wxt = new float[N][s];
        max = new float[s];
        amax = new float[s];
        is = new float[s];
        sx = new float[s];
        s2 = new float[s];
        best = new float[s];
        scale = new float[s];
        chosen = new float[s];
        active = new boolean[s];
    }

    /**
     * Codes {@code L[0..n)} in [0, 2·nmax) for the {@code n / 16} sub-blocks of {@code x[xOff..xOff+n)};
     * the (signed) scale of sub-block {@code s} to {@code scales[s]}.
     */
    void search(float[] x, int xOff, int n, int nmax, int[] L, float[] scales) {
        int S = n / N;
        ensure(S);
        float[][] xt = this.xt;
        boolean finite = true;
        for (int s = 0; s < S; ++s) {
            for (int i = 0; i < N; ++i) {
                float v = x[xOff + s * N + i];
                finite &= Math.abs(v) <= Float.MAX_VALUE;
                xt[i][s] = v;
            }
        }
        if (!finite) {
            for (int s = 0; s < S; ++s) {
                scales[s] = single.run(N, nmax, x, xOff + s * N, L, s * N);
            }
            return;
        }
        float[] max = this.max;
        float[] amax = this.amax;
        java.util.Arrays.fill(max, 0, S, 0f);
        java.util.Arrays.fill(amax, 0, S, 0f);
        for (int i = 0; i < N; ++i) {
            float[] xr = xt[i];
            float[] wr = wt[i];
            float[] wxr = wxt[i];
            for (int s = 0; s < S; ++s) {
                float v = xr[s];
                float ax = Math.abs(v);
                if (ax > amax[s]) {
                    amax[s] = ax;
                    max[s] = v;
                }
                float w = v * v;
                wr[s] = w;
                wxr[s] = w * v;
            }
        }
        boolean any = false;
        for (int s = 0; s < S; ++s) {
            active[s] = !(amax[s] < GROUP_MAX_EPS);
            any |= active[s];
        }
        if (any) {
            // the first guess, iscale = -nmax / max
            for (int s = 0; s < S; ++s) {
                is[s] = active[s] ? -nmax / max[s] : 0f;
            }
            sums(nmax, S);
            for (int s = 0; s < S; ++s) {
                float sc = s2[s] != 0 ? sx[s] / s2[s] : 0.0f;
                scale[s] = sc;
                best[s] = sc * sx[s];
                chosen[s] = is[s];
            }
            for (int step : QX_STEPS) {
                for (int s = 0; s < S; ++s) {
                    is[s] = active[s] ? -(nmax + 0.1f * step) / max[s] : 0f;
                }
                sums(nmax, S);
                for (int s = 0; s < S; ++s) {
                    float a = sx[s];
                    float q = s2[s];
                    if (q > 0 && a * a > best[s] * q) {
                        chosen[s] = is[s];
                        float sc = a / q;
                        scale[s] = sc;
                        best[s] = sc * a;
                    }
                }
            }
        }
        for (int s = 0; s < S; ++s) {
            int lo = s * N;
            if (!active[s]) {
                for (int i = 0; i < N; ++i) {
                    L[lo + i] = 0;
                }
                scales[s] = 0.f;
                continue;
            }
            float c = chosen[s];
            for (int i = 0; i < N; ++i) {
                L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, nearestInt(c * xt[i][s])));
            }
            scales[s] = scale[s];
        }
    }

    /** {@code sumlx = Σ (w·x)·l} and {@code suml2 = Σ (w·l)·l} per lane for the iscales in {@link #is}. */
    private void sums(int nmax, int S) {
        float[] is = this.is;
        float[] sx = this.sx;
        float[] s2 = this.s2;
        java.util.Arrays.fill(sx, 0, S, 0f);
        java.util.Arrays.fill(s2, 0, S, 0f);
        float lo = -nmax;
        float hi = nmax - 1;
        for (int i = 0; i < N; ++i) {
            float[] xr = xt[i];
            float[] wr = wt[i];
            float[] wxr = wxt[i];
            for (int s = 0; s < S; ++s) {
                float l = Math.max(lo, Math.min(hi, (is[s] * xr[s] + 12582912.0f) - 12582912.0f));
                sx[s] += wxr[s] * l;
                s2[s] += wr[s] * l * l;
            }
        }
    }
}

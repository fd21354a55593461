package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.GROUP_MAX_EPS;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;

/**
 * {@code make_qx_quants} with {@code rmse_type = 1} and no importance weights (Q6_K), evaluated with
 * the candidates as the inner loop: for each element in index order, all 19 candidate scales (the
 * initial one and the 18 steps) update their own running sums. Every sum is still one sequential chain
 * in index order with the C operands ({@code (w*x)*l}, {@code (w*l)*l}), so each value is the C value;
 * the candidate-wise loop is element-wise across independent lanes, which the JIT can vectorize without
 * changing any per-lane IEEE result. Acceptance then runs in the C order (-9..-1, 1..9). One instance
 * per thread (mutable scratch).
 */
final class QxSearch {
    /** The candidate steps of {@code make_qx_quants}, in the C loop's order (-9..9 without 0). */
    private static final int[] QX_STEPS = {-9, -8, -7, -6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    /** Lanes 0..17: the steps above; lane 18: the initial {@code -nmax / max}. */
    private static final int LANES = QX_STEPS.length + 1;
    private static final int INITIAL = QX_STEPS.length;

    private final float[] iscales = new float[LANES];
    private final float[] sumLx = new float[LANES];
    private final float[] sumL2 = new float[LANES];

    /**
     * Codes {@code L[lOff..lOff+n)} in [0, 2·nmax) for {@code x[xOff..]}; returns the (signed) scale,
     * exactly as {@code make_qx_quants(n, nmax, x, L, 1, NULL)}.
     */
    float run(int n, int nmax, float[] x, int xOff, int[] L, int lOff) {
        float max = 0;
        float amax = 0;
        boolean finite = true;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xOff + i]);
            finite &= ax <= Float.MAX_VALUE;
            if (ax > amax) {
                amax = ax;
                max = x[xOff + i];
            }
        }
        if (!finite) {
            // NaN/inf inputs: nearest_int's bit trick on NaN products differs from an int cast
            return QuantPrimitives.makeQxQuants(n, nmax, x, xOff, L, lOff, new float[n], new float[n]);
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) {
                L[lOff + i] = 0;
            }
            return 0.f;
        }
        float[] is = iscales;
        float[] sx = sumLx;
        float[] s2 = sumL2;
        for (int k = 0; k < QX_STEPS.length; ++k) {
            is[k] = -(nmax + 0.1f * QX_STEPS[k]) / max;
        }
        is[INITIAL] = -nmax / max;
        java.util.Arrays.fill(sx, 0f);
        java.util.Arrays.fill(s2, 0f);
        int lo = -nmax;
        int hi = nmax - 1;
        for (int i = 0; i < n; ++i) {
            float xi = x[xOff + i];
            float w = xi * xi;
            float wx = w * xi;
            for (int k = 0; k < LANES; ++k) {
                // nearest_int: |is·x| <= ~33 here (finite x, |x| <= |max|), where the float sum is an
                // exact integer, so the int cast equals the bit trick and the JIT can vectorize it
                int l = Math.max(lo, Math.min(hi, (int) (is[k] * xi + 12582912.0f) - 12582912));
                sx[k] += wx * l;
                s2[k] += w * l * l;
            }
        }
        float sumlx = sx[INITIAL];
        float suml2 = s2[INITIAL];
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        float chosen = is[INITIAL];
        for (int k = 0; k < QX_STEPS.length; ++k) {
            float s = sx[k];
            float q = s2[k];
            if (q > 0 && s * s > best * q) {
                chosen = is[k];
                scale = s / q;
                best = scale * s;
            }
        }
        for (int i = 0; i < n; ++i) {
            L[lOff + i] = nmax + Math.max(lo, Math.min(hi, nearestInt(chosen * x[xOff + i])));
        }
        return scale;
    }
}

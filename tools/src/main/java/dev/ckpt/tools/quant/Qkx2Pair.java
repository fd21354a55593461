package dev.ckpt.tools.quant;

import static dev.ckpt.tools.quant.QuantPrimitives.makeQkx2Quants;
import static dev.ckpt.tools.quant.QuantPrimitives.nearestInt;

/**
 * {@link QuantPrimitives#makeQkx2Quants} for two independent 32-element sub-blocks in lockstep: the
 * same float operations in the same order per sub-block (every running sum stays one sequential chain
 * in index order, so results are identical), but the two sub-blocks' chains interleave, which roughly
 * halves the time the scalar search spends waiting on add latency. Degenerate sub-blocks (all equal
 * after the min clamp) take the single-block path.
 */
final class Qkx2Pair {
    private static final int N = 32;
    /** Below 2^22 (where an int cast and nearest_int's bit trick agree), with a margin for the bound's rounding. */
    private static final float NEAREST_INT_LIMIT = 4.0e6f;

    private final float[] xmA = new float[N];
    private final float[] xmB = new float[N];
    private final int[] lauxA = new int[N];
    private final int[] lauxB = new int[N];
    private final float[] minOut = new float[1];

    /**
     * Searches sub-blocks A ({@code x[xoA..]}, weights {@code wA}, codes to {@code L[lA..]}) and B;
     * stores the scales into {@code scales[jA]}, {@code scales[jB]} and the mins into {@code mins[jA]},
     * {@code mins[jB]} as {@code make_qkx2_quants} returns them.
     */
    void run(int nmax, float[] x, int xoA, int xoB, float[] wA, float[] wB, int[] L, int lA, int lB,
             float[] scales, float[] mins, int jA, int jB, float rmin, float rdelta, int nstep) {
        float minA = x[xoA];
        float maxA = x[xoA];
        float sumWA = wA[0];
        float sumXA = sumWA * x[xoA];
        float minB = x[xoB];
        float maxB = x[xoB];
        float sumWB = wB[0];
        float sumXB = sumWB * x[xoB];
        boolean nan = minA != minA || minB != minB;
        for (int i = 1; i < N; ++i) {
            float a = x[xoA + i];
            nan |= a != a;
            if (a < minA) {
                minA = a;
            }
            if (a > maxA) {
                maxA = a;
            }
            sumWA += wA[i];
            sumXA += wA[i] * a;
            float b = x[xoB + i];
            nan |= b != b;
            if (b < minB) {
                minB = b;
            }
            if (b > maxB) {
                maxB = b;
            }
            sumWB += wB[i];
            sumXB += wB[i] * b;
        }
        float xMinA = minA;
        float xMinB = minB;
        if (minA > 0) {
            minA = 0;
        }
        if (minB > 0) {
            minB = 0;
        }
        if (maxA == minA || maxB == minB || nan || nstep < 1) {
            scales[jA] = makeQkx2Quants(N, nmax, x, xoA, wA, L, lA, mins, jA, lauxA, xmA, rmin, rdelta, nstep);
            scales[jB] = makeQkx2Quants(N, nmax, x, xoB, wB, L, lB, mins, jB, lauxB, xmB, rmin, rdelta, nstep);
            return;
        }
        float rangeA = maxA - minA;
        float rangeB = maxB - minB;
        float isA = nmax / rangeA;
        float isB = nmax / rangeB;
        float scaleA = 1 / isA;
        float scaleB = 1 / isB;
        float bestA = 0;
        float bestB = 0;
        for (int i = 0; i < N; ++i) {
            float a = x[xoA + i];
            float b = x[xoB + i];
            xmA[i] = a - minA;
            xmB[i] = b - minB;
            int la = Math.max(0, Math.min(nmax, nearestInt(isA * xmA[i])));
            int lb = Math.max(0, Math.min(nmax, nearestInt(isB * xmB[i])));
            L[lA + i] = la;
            L[lB + i] = lb;
            float da = scaleA * la + minA - a;
            float db = scaleB * lb + minB - b;
            da = da * da;
            db = db * db;
            bestA += wA[i] * da;
            bestB += wB[i] * db;
        }
        for (int is = 0; is <= nstep; ++is) {
            float ia = (rmin + rdelta * is + nmax) / rangeA;
            float ib = (rmin + rdelta * is + nmax) / rangeB;
            // |ia·xmA[i]| <= |ia|·max(|xMinA - minA|, |maxA - minA|) (rounding is monotonic); below 2^22
            // the float sum is an exact integer and an int cast equals nearest_int's bit trick, in a
            // form the JIT vectorizes
            float boundA = Math.abs(ia) * Math.max(Math.abs(xMinA - minA), Math.abs(maxA - minA));
            float boundB = Math.abs(ib) * Math.max(Math.abs(xMinB - minB), Math.abs(maxB - minB));
            if (boundA < NEAREST_INT_LIMIT && boundB < NEAREST_INT_LIMIT) {
                for (int i = 0; i < N; ++i) {
                    lauxA[i] = Math.max(0, Math.min(nmax, (int) (ia * xmA[i] + 12582912.0f) - 12582912));
                }
                for (int i = 0; i < N; ++i) {
                    lauxB[i] = Math.max(0, Math.min(nmax, (int) (ib * xmB[i] + 12582912.0f) - 12582912));
                }
            } else {
                for (int i = 0; i < N; ++i) {
                    lauxA[i] = Math.max(0, Math.min(nmax, nearestInt(ia * xmA[i])));
                    lauxB[i] = Math.max(0, Math.min(nmax, nearestInt(ib * xmB[i])));
                }
            }
            float sLA = 0;
            float sL2A = 0;
            float sXLA = 0;
            float sLB = 0;
            float sL2B = 0;
            float sXLB = 0;
            for (int i = 0; i < N; ++i) {
                int la = lauxA[i];
                int lb = lauxB[i];
                float wla = wA[i] * la;
                float wlb = wB[i] * lb;
                sLA += wla;
                sL2A += wla * la;
                sXLA += wla * x[xoA + i];
                sLB += wlb;
                sL2B += wlb * lb;
                sXLB += wlb * x[xoB + i];
            }
            float dA = sumWA * sL2A - sLA * sLA;
            float dB = sumWB * sL2B - sLB * sLB;
            boolean okA = dA > 0;
            boolean okB = dB > 0;
            float tsA = 0;
            float tmA = 0;
            float tsB = 0;
            float tmB = 0;
            if (okA) {
                tsA = (sumWA * sXLA - sumXA * sLA) / dA;
                tmA = (sL2A * sumXA - sLA * sXLA) / dA;
                if (tmA > 0) {
                    tmA = 0;
                    tsA = sXLA / sL2A;
                }
            }
            if (okB) {
                tsB = (sumWB * sXLB - sumXB * sLB) / dB;
                tmB = (sL2B * sumXB - sLB * sXLB) / dB;
                if (tmB > 0) {
                    tmB = 0;
                    tsB = sXLB / sL2B;
                }
            }
            float errA = 0;
            float errB = 0;
            if (okA && okB) {
                for (int i = 0; i < N; ++i) {
                    float da = tsA * lauxA[i] + tmA - x[xoA + i];
                    float db = tsB * lauxB[i] + tmB - x[xoB + i];
                    da = da * da;
                    db = db * db;
                    errA += wA[i] * da;
                    errB += wB[i] * db;
                }
            } else if (okA) {
                errA = error(x, xoA, wA, lauxA, tsA, tmA);
            } else if (okB) {
                errB = error(x, xoB, wB, lauxB, tsB, tmB);
            }
            if (okA && errA < bestA) {
                System.arraycopy(lauxA, 0, L, lA, N);
                bestA = errA;
                scaleA = tsA;
                minA = tmA;
                rangeA = maxA - minA;
                for (int i = 0; i < N; ++i) {
                    xmA[i] = x[xoA + i] - minA;
                }
            }
            if (okB && errB < bestB) {
                System.arraycopy(lauxB, 0, L, lB, N);
                bestB = errB;
                scaleB = tsB;
                minB = tmB;
                rangeB = maxB - minB;
                for (int i = 0; i < N; ++i) {
                    xmB[i] = x[xoB + i] - minB;
                }
            }
        }
        scales[jA] = scaleA;
        mins[jA] = -minA;
        scales[jB] = scaleB;
        mins[jB] = -minB;
    }

    private static float error(float[] x, int xo, float[] w, int[] l, float s, float m) {
        float err = 0;
        for (int i = 0; i < N; ++i) {
            float d = s * l[i] + m - x[xo + i];
            d = d * d;
            err += w[i] * d;
        }
        return err;
    }
}

package dev.ckpt.verify;

/**
 * Agreement metrics between two sets of logits {@code [positions][vocab]}: max |Δ|, top-1
 * agreement and KL(reference || candidate) of the softmax distributions (computed in double).
 * Vocabularies of different size are compared over the common prefix.
 */
final class LogitComparison {
    private LogitComparison() {
    }

    static SmokeReport.Comparison compare(String reference, float[][] candidate, float[][] ref) {
        int positions = Math.min(candidate.length, ref.length);
        double maxAbs = 0;
        int agree = 0;
        double klSum = 0;
        double klMax = 0;
        for (int p = 0; p < positions; p++) {
            int v = Math.min(candidate[p].length, ref[p].length);
            for (int i = 0; i < v; i++) {
                maxAbs = Math.max(maxAbs, Math.abs((double) candidate[p][i] - ref[p][i]));
            }
            if (argmax(candidate[p], v) == argmax(ref[p], v)) {
                agree++;
            }
            double kl = kl(ref[p], candidate[p], v);
            klSum += kl;
            klMax = Math.max(klMax, kl);
        }
        return new SmokeReport.Comparison(reference, positions, maxAbs, positions == 0 ? 0 : (double) agree / positions,
                positions == 0 ? 0 : klSum / positions, klMax);
    }

    static int argmax(float[] x, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    /** KL(p || q) where p = softmax(a), q = softmax(b), over the first n entries. */
    static double kl(float[] a, float[] b, int n) {
        double[] lp = logSoftmax(a, n);
        double[] lq = logSoftmax(b, n);
        double kl = 0;
        for (int i = 0; i < n; i++) {
            kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
        }
        return Math.max(0, kl);
    }

    static double[] logSoftmax(float[] x, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(x[i] - max);
        }
        double log = max + Math.log(sum);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = x[i] - log;
        }
        return out;
    }
}

package dev.ckpt.formats.numeric;

import java.util.Arrays;

/**
 * Independent reference for the 16-bit float formats, written from the IEEE 754 definitions
 * (sign, biased exponent, fraction) with double arithmetic, and "round to nearest, ties to even"
 * as a search over every representable value. Shares no code with the classes under test.
 */
final class Ieee16Reference {
    final int exponentBits;
    final int fractionBits;
    /** Non-negative finite values in bit order, plus the first value past the largest finite (2^emax+1). */
    final double[] ladder;

    private Ieee16Reference(int exponentBits, int fractionBits) {
        this.exponentBits = exponentBits;
        this.fractionBits = fractionBits;
        int infBits = ((1 << exponentBits) - 1) << fractionBits;
        ladder = new double[infBits + 1];
        for (int b = 0; b < infBits; b++) {
            ladder[b] = decode(b);
        }
        int bias = (1 << (exponentBits - 1)) - 1;
        ladder[infBits] = Math.scalb(1.0, bias + 1);
    }

    static final Ieee16Reference HALF = new Ieee16Reference(5, 10);
    static final Ieee16Reference BFLOAT = new Ieee16Reference(8, 7);

    int infBits() {
        return ((1 << exponentBits) - 1) << fractionBits;
    }

    /** Value of a bit pattern, from the definition; NaN for NaN patterns. */
    double decode(int bits) {
        int sign = (bits >>> (exponentBits + fractionBits)) & 1;
        int e = (bits >>> fractionBits) & ((1 << exponentBits) - 1);
        int m = bits & ((1 << fractionBits) - 1);
        int bias = (1 << (exponentBits - 1)) - 1;
        double v;
        if (e == (1 << exponentBits) - 1) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (e == 0) {
            v = Math.scalb((double) m, 1 - bias - fractionBits);
        } else {
            v = Math.scalb((double) ((1 << fractionBits) + m), e - bias - fractionBits);
        }
        return sign == 1 ? -v : v;
    }

    /** Nearest representable pattern to a finite or infinite {@code x}, ties to even; not for NaN. */
    int roundNearestEven(double x) {
        int sign = (Double.doubleToRawLongBits(x) < 0) ? 1 << (exponentBits + fractionBits) : 0;
        double a = Math.abs(x);
        if (a >= ladder[ladder.length - 1]) {
            return sign | infBits();
        }
        int i = Arrays.binarySearch(ladder, a);
        int k;
        if (i >= 0) {
            k = i;
        } else {
            int hi = -i - 1;
            int lo = hi - 1;
            double dLo = a - ladder[lo];
            double dHi = ladder[hi] - a;
            k = dLo < dHi ? lo : dHi < dLo ? hi : (lo % 2 == 0 ? lo : hi);
        }
        return sign | k;
    }
}

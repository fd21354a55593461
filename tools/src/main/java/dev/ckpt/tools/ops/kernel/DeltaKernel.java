package dev.ckpt.tools.ops.kernel;

/**
 * Element-wise {@code acc = acc ± base} in f32, rounded once into the storage dtype, over plain
 * arrays (the streaming around it is {@link DeltaRecipe}).
 *
 * <p>The bf16 kernel works on the raw bits: a bf16 is the upper half of an f32, so decoding is a
 * shift, and rounding back is the integer form of round-to-nearest-even that {@link
 * dev.ckpt.formats.numeric.Bf16#fromFloat} uses, NaN included (every NaN becomes the quiet
 * {@code 0x7FC0}). The loops have no branches and no calls, so C2 vectorises them; the Vector API
 * would be faster once compiled but its warm-up costs more than it saves on a run of a few seconds
 * (docs/benchmarks.md, Delta).
 */
public final class DeltaKernel {
    /** Which way the base is combined. */
    public enum Op {
        /** apply-delta: {@code delta + base}. */
        ADD,
        /** make-delta: {@code target - base}. */
        SUBTRACT
    }

    /** The bf16 bits c10 writes for every NaN. */
    private static final int QUIET_NAN = 0x7FC0;

    private DeltaKernel() {
    }

    /**
     * bf16: {@code acc[i] = bf16(f32(acc[i]) ± f32(base[i]))} for {@code i < n}, bit-identical to
     * {@code Bf16.fromFloat(Bf16.toFloat(acc[i]) ± Bf16.toFloat(base[i]))}.
     */
    public static void bf16(short[] acc, short[] base, int n, Op op) {
        // One loop per op keeps the choice out of the loop body that C2 vectorises.
        if (op == Op.ADD) {
            for (int i = 0; i < n; i++) {
                float sum = Float.intBitsToFloat(acc[i] << 16) + Float.intBitsToFloat(base[i] << 16);
                acc[i] = roundBf16(Float.floatToRawIntBits(sum));
            }
        } else {
            for (int i = 0; i < n; i++) {
                float diff = Float.intBitsToFloat(acc[i] << 16) - Float.intBitsToFloat(base[i] << 16);
                acc[i] = roundBf16(Float.floatToRawIntBits(diff));
            }
        }
    }

    /**
     * The bf16 nearest to the f32 with bits {@code x}, ties to even: adding {@code 0x7FFF} plus the
     * lowest kept bit carries into the kept half exactly when the dropped half is above the tie,
     * or at the tie with an odd kept half. Infinity stays infinity, the largest finite values
     * overflow to it as IEEE rounding does, and a NaN (exponent all ones, fraction non-zero) is
     * replaced by the quiet NaN, whose payload the addition could otherwise carry into the sign.
     */
    static short roundBf16(int x) {
        int rounded = (x + 0x7FFF + ((x >>> 16) & 1)) >>> 16;
        return (short) ((x & 0x7FFFFFFF) > 0x7F800000 ? QUIET_NAN : rounded);
    }

    /** f32 values: {@code acc[i] = acc[i] ± base[i]} for {@code i < n} (the caller encodes once). */
    public static void f32(float[] acc, float[] base, int n, Op op) {
        if (op == Op.ADD) {
            for (int i = 0; i < n; i++) {
                acc[i] += base[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                acc[i] -= base[i];
            }
        }
    }
}

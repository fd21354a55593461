package dev.ckpt.tools.ops.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Element-wise {@code acc = acc ± base} in f32, rounded once into the storage dtype (the streaming
 * around it is {@link DeltaRecipe}).
 *
 * <p>The bf16 kernel works on the raw bits, two elements per {@code int}: a bf16 is the upper half
 * of an f32, so the element in the low half decodes as {@code bits << 16} and the one in the high
 * half as {@code bits & 0xFFFF0000}; rounding back is the integer form of round-to-nearest-even that
 * {@link dev.ckpt.formats.numeric.Bf16#fromFloat} uses, NaN included (every NaN becomes the quiet
 * {@code 0x7FC0}). Why the detours: C2 vectorises loops of int or float operations over arrays,
 * but not {@code Float.intBitsToFloat}/{@code floatToRawIntBits} inside a loop (measured: ~0.5 G
 * elements per CPU-second either way), nor a {@code ?:} select. So the bits are reinterpreted by
 * copying int arrays into float arrays (a memcpy), and NaN is selected with a mask. Every loop
 * below has one store and same-index accesses only, which is what C2 needs to vectorise it
 * (~1 G elements per CPU-second for the whole kernel on the development VM, twice the scalar loop).
 * The Vector API would be faster once compiled, but its warm-up costs more than it saves on a run
 * of a few seconds (docs/benchmarks.md, Delta).
 */
public final class DeltaKernel {
    /** Which way the base is combined. */
    public enum Op {
        /** apply-delta: {@code delta + base}. */
        ADD,
        /** make-delta: {@code target - base}. */
        SUBTRACT
    }

    /** bf16 pairs per inner block: the block's ten arrays (80 KiB) stay in a core's L1/L2 cache. */
    static final int BLOCK_PAIRS = 2048;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Native-order layouts for the reinterpreting copies between the scratch arrays; unaligned,
     * because an aligned layout makes every copy check the alignment of the heap array, which
     * profiled at as much time as the whole kernel.
     */
    private static final ValueLayout.OfFloat BITS_AS_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfInt FLOAT_BITS = ValueLayout.JAVA_INT_UNALIGNED;

    /** The bf16 bits c10 writes for every NaN. */
    private static final int QUIET_NAN = 0x7FC0;

    private static final ThreadLocal<Lanes> LANES = ThreadLocal.withInitial(Lanes::new);

    private DeltaKernel() {
    }

    /**
     * bf16 in place: element {@code i < n} of {@code acc} becomes
     * {@code Bf16.fromFloat(Bf16.toFloat(acc[i]) ± Bf16.toFloat(base[i]))}; both segments hold
     * little-endian bf16 and at least {@code n} elements.
     */
    public static void bf16(MemorySegment acc, MemorySegment base, long n, Op op) {
        Lanes l = LANES.get();
        long pairs = n / 2;
        for (long p0 = 0; p0 < pairs; p0 += BLOCK_PAIRS) {
            int m = (int) Math.min(BLOCK_PAIRS, pairs - p0);
            MemorySegment.copy(acc, LE_INT, 4 * p0, l.a, 0, m);
            MemorySegment.copy(base, LE_INT, 4 * p0, l.b, 0, m);
            l.combine(m, op);
            MemorySegment.copy(l.a, 0, acc, LE_INT, 4 * p0, m);
        }
        if (n % 2 != 0) { // the odd last element, scalar
            long at = 2 * (n - 1);
            float x = Float.intBitsToFloat(acc.get(LE_SHORT, at) << 16);
            float y = Float.intBitsToFloat(base.get(LE_SHORT, at) << 16);
            acc.set(LE_SHORT, at, roundBf16(Float.floatToRawIntBits(op == Op.ADD ? x + y : x - y)));
        }
    }

    /**
     * The bf16 nearest to the f32 with bits {@code x}, ties to even: adding {@code 0x7FFF} plus the
     * lowest kept bit carries into the kept half exactly when the dropped half is above the tie,
     * or at the tie with an odd kept half. Infinity stays infinity, the largest finite values
     * overflow to it as IEEE rounding does, and a NaN (magnitude above infinity's bits) is replaced
     * by the quiet NaN through a mask (all ones for a NaN), not a branch, so loops vectorise.
     */
    static short roundBf16(int x) {
        return (short) roundBits(x);
    }

    private static int roundBits(int x) {
        int rounded = (x + 0x7FFF + ((x >>> 16) & 1)) >>> 16;
        int nan = (0x7F800000 - (x & 0x7FFFFFFF)) >> 31;
        return (rounded & ~nan) | (QUIET_NAN & nan);
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

    /** One thread's arrays for a block: packed pairs, their f32 bits split by half, and the same bits as floats. */
    private static final class Lanes {
        final int[] a = new int[BLOCK_PAIRS];
        final int[] b = new int[BLOCK_PAIRS];
        final int[] aLo = new int[BLOCK_PAIRS];
        final int[] aHi = new int[BLOCK_PAIRS];
        final int[] bLo = new int[BLOCK_PAIRS];
        final int[] bHi = new int[BLOCK_PAIRS];
        final float[] faLo = new float[BLOCK_PAIRS];
        final float[] faHi = new float[BLOCK_PAIRS];
        final float[] fbLo = new float[BLOCK_PAIRS];
        final float[] fbHi = new float[BLOCK_PAIRS];
        // Views for the int <-> float reinterpreting copies.
        final MemorySegment aLoBits = MemorySegment.ofArray(aLo);
        final MemorySegment aHiBits = MemorySegment.ofArray(aHi);
        final MemorySegment bLoBits = MemorySegment.ofArray(bLo);
        final MemorySegment bHiBits = MemorySegment.ofArray(bHi);
        final MemorySegment faLoBits = MemorySegment.ofArray(faLo);
        final MemorySegment faHiBits = MemorySegment.ofArray(faHi);

        /** {@code a[i]} = both bf16 halves of {@code a[i] ± b[i]}, for {@code i < m}. */
        void combine(int m, Op op) {
            // Split: one loop per output array (several stores in one loop stop C2 from vectorising).
            for (int i = 0; i < m; i++) {
                aLo[i] = a[i] << 16;
            }
            for (int i = 0; i < m; i++) {
                aHi[i] = a[i] & 0xFFFF0000;
            }
            for (int i = 0; i < m; i++) {
                bLo[i] = b[i] << 16;
            }
            for (int i = 0; i < m; i++) {
                bHi[i] = b[i] & 0xFFFF0000;
            }
            MemorySegment.copy(aLoBits, BITS_AS_FLOAT, 0, faLo, 0, m);
            MemorySegment.copy(aHiBits, BITS_AS_FLOAT, 0, faHi, 0, m);
            MemorySegment.copy(bLoBits, BITS_AS_FLOAT, 0, fbLo, 0, m);
            MemorySegment.copy(bHiBits, BITS_AS_FLOAT, 0, fbHi, 0, m);
            f32(faLo, fbLo, m, op);
            f32(faHi, fbHi, m, op);
            MemorySegment.copy(faLoBits, FLOAT_BITS, 0, aLo, 0, m);
            MemorySegment.copy(faHiBits, FLOAT_BITS, 0, aHi, 0, m);
            for (int i = 0; i < m; i++) {
                a[i] = roundBits(aHi[i]) << 16 | roundBits(aLo[i]);
            }
        }
    }
}

package dev.ckpt.tools.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.numeric.Bf16;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DeltaKernelTest {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * b values where rounding and IEEE special cases differ: signed zeros, the smallest and largest
     * subnormals, the smallest normal, values around 1 and 2 (ties appear when exponents differ by 8
     * or more), the largest finite, infinities, quiet and signalling NaNs of both signs with payloads.
     */
    private static final int[] SPECIAL_B = {
        0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x807F, 0x0080, 0x8080, 0x0081,
        0x3F80, 0xBF80, 0x3F81, 0xBF81, 0x4000, 0x3B80, 0x3B81, 0xBB80, 0x4B80, 0x5F80, 0x2F80,
        0x7F7F, 0xFF7F, 0x7F7E, 0xFF7E, 0x7F00, 0x7F80, 0xFF80,
        0x7FC0, 0xFFC0, 0x7F81, 0xFF81, 0x7FFF, 0xFFFF, 0x7FA5,
    };

    /** Every bf16 bit pattern of {@code a} against the special values and random ones, both ops, through the compiled loops. */
    @Test
    void everyBf16AgainstSpecialAndRandomValuesMatchesTheScalarReference() {
        Random random = new Random(42);
        int[] bs = IntStream.concat(IntStream.of(SPECIAL_B), IntStream.generate(() -> random.nextInt(1 << 16)).limit(30)).toArray();
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        short[] acc = new short[all.length];
        short[] base = new short[all.length];
        long checked = 0;
        for (DeltaKernel.Op op : DeltaKernel.Op.values()) {
            for (int b : bs) {
                System.arraycopy(all, 0, acc, 0, all.length);
                java.util.Arrays.fill(base, (short) b);
                bf16(acc, base, all.length, op);
                float fb = Bf16.toFloat((short) b);
                for (int a = 0; a < all.length; a++) {
                    float fa = Bf16.toFloat((short) a);
                    short expected = Bf16.fromFloat(op == DeltaKernel.Op.ADD ? fa + fb : fa - fb);
                    if (acc[a] != expected) {
                        throw new AssertionError(String.format("%s a=0x%04X b=0x%04X: got 0x%04X, expected 0x%04X",
                                op, a, b, acc[a] & 0xFFFF, expected & 0xFFFF));
                    }
                    checked++;
                }
            }
        }
        assertThat(checked).isEqualTo(2L * bs.length * (1 << 16));
    }

    /** Random pairs (so b also covers every exponent); an odd n leaves the elements after it alone and takes the scalar tail. */
    @Test
    void randomPairsAndPartialLength() {
        Random random = new Random(7);
        int n = 100_003;
        short[] a = new short[n];
        short[] b = new short[n];
        for (int i = 0; i < n; i++) {
            a[i] = (short) random.nextInt();
            b[i] = (short) random.nextInt();
        }
        for (DeltaKernel.Op op : DeltaKernel.Op.values()) {
            short[] acc = a.clone();
            int len = n - 2; // odd
            bf16(acc, b, len, op);
            for (int i = 0; i < n; i++) {
                float fa = Bf16.toFloat(a[i]);
                float fb = Bf16.toFloat(b[i]);
                short expected = i < len ? Bf16.fromFloat(op == DeltaKernel.Op.ADD ? fa + fb : fa - fb) : a[i];
                assertThat(acc[i]).as("%s element %d", op, i).isEqualTo(expected);
            }
        }
    }

    /** The integer rounding against the scalar codec: every upper half with the lower halves around a tie, and random floats. */
    @Test
    void roundingMatchesBf16FromFloat() {
        int[] lows = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
        for (int hi = 0; hi < 1 << 16; hi++) {
            for (int lo : lows) {
                int x = hi << 16 | lo;
                assertRounds(x);
            }
        }
        Random random = new Random(3);
        for (int i = 0; i < 1_000_000; i++) {
            assertRounds(random.nextInt());
        }
    }

    /** Runs the kernel on little-endian copies of the arrays, as the recipe does on its read buffers. */
    private static void bf16(short[] acc, short[] base, int n, DeltaKernel.Op op) {
        MemorySegment a = Arena.ofAuto().allocate(2L * acc.length);
        MemorySegment b = Arena.ofAuto().allocate(2L * base.length);
        MemorySegment.copy(acc, 0, a, LE_SHORT, 0, acc.length);
        MemorySegment.copy(base, 0, b, LE_SHORT, 0, base.length);
        DeltaKernel.bf16(a, b, n, op);
        MemorySegment.copy(a, LE_SHORT, 0, acc, 0, acc.length);
    }

    private static void assertRounds(int x) {
        short expected = Bf16.fromFloat(Float.intBitsToFloat(x));
        short got = DeltaKernel.roundBf16(x);
        if (got != expected) {
            throw new AssertionError(String.format("0x%08X: got 0x%04X, expected 0x%04X", x, got & 0xFFFF, expected & 0xFFFF));
        }
    }

    @Test
    void f32AddsAndSubtracts() {
        float[] acc = {1, 2, 3};
        DeltaKernel.f32(acc, new float[] {0.5f, 0.25f, 9}, 2, DeltaKernel.Op.ADD);
        assertThat(acc).containsExactly(1.5f, 2.25f, 3);
        DeltaKernel.f32(acc, new float[] {1, 1, 1}, 3, DeltaKernel.Op.SUBTRACT);
        assertThat(acc).containsExactly(0.5f, 1.25f, 2);
    }
}

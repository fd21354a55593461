package dev.ckpt.formats.numeric;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class F16Bf16Test {
    private static final Ieee16Reference HALF = Ieee16Reference.HALF;
    private static final Ieee16Reference BF = Ieee16Reference.BFLOAT;
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void decodesAll65536HalfPatternsExactly() {
        for (int b = 0; b < 65536; b++) {
            double expected = HALF.decode(b);
            float got = F16.toFloat((short) b);
            if (Double.isNaN(expected)) {
                assertThat(Float.isNaN(got)).as("0x%04X", b).isTrue();
            } else {
                assertThat(Float.floatToRawIntBits(got)).as("0x%04X", b).isEqualTo(Float.floatToRawIntBits((float) expected));
                assertThat((double) got).isEqualTo(expected);
            }
        }
    }

    @Test
    void decodesAll65536Bf16PatternsExactly() {
        for (int b = 0; b < 65536; b++) {
            double expected = BF.decode(b);
            float got = Bf16.toFloat((short) b);
            if (Double.isNaN(expected)) {
                assertThat(Float.isNaN(got)).as("0x%04X", b).isTrue();
            } else {
                assertThat(Float.floatToRawIntBits(got)).as("0x%04X", b).isEqualTo(Float.floatToRawIntBits((float) expected));
            }
        }
    }

    @Test
    void everyHalfRoundTripsAndNaNsBecomeSignedQuietNaN() {
        for (int b = 0; b < 65536; b++) {
            short back = F16.fromFloat(F16.toFloat((short) b));
            int expected = Double.isNaN(HALF.decode(b)) ? (b & 0x8000) | 0x7E00 : b;
            assertThat(back & 0xFFFF).as("0x%04X", b).isEqualTo(expected);
        }
    }

    @Test
    void everyBf16RoundTripsAndNaNsBecome7FC0() {
        for (int b = 0; b < 65536; b++) {
            short back = Bf16.fromFloat(Bf16.toFloat((short) b));
            int expected = Double.isNaN(BF.decode(b)) ? 0x7FC0 : b;
            assertThat(back & 0xFFFF).as("0x%04X", b).isEqualTo(expected);
        }
    }

    @Test
    void roundsMidpointsToEvenAndNeighboursToNearest() {
        for (Ieee16Reference ref : new Ieee16Reference[] {HALF, BF}) {
            for (int k = 0; k < ref.infBits(); k++) {
                float mid = (float) ((ref.ladder[k] + ref.ladder[k + 1]) / 2);
                assertThat((double) mid).isEqualTo((ref.ladder[k] + ref.ladder[k + 1]) / 2); // exact in f32
                for (float x : new float[] {mid, Math.nextDown(mid), Math.nextUp(mid), -mid, -Math.nextUp(mid)}) {
                    assertThat(encode(ref, x)).as("%s %s", ref == HALF ? "f16" : "bf16", x).isEqualTo(ref.roundNearestEven(x));
                }
            }
        }
    }

    @Test
    void matchesReferenceOnRandomAndSpecialFloats() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 400_000; i++) {
            float x = Float.intBitsToFloat(r.nextInt());
            if (Float.isNaN(x)) {
                continue;
            }
            assertThat(F16.fromFloat(x) & 0xFFFF).as("f16 %s", x).isEqualTo(HALF.roundNearestEven(x));
            assertThat(Bf16.fromFloat(x) & 0xFFFF).as("bf16 %s", x).isEqualTo(BF.roundNearestEven(x));
        }
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 65504f, 65519.99f, 65520f, 65536f, 1e-8f, 2.98e-8f,
            2.9802322e-8f, 5.9604645e-8f, 6.1035156e-5f, Float.MIN_NORMAL, 3.3895314e38f, 3.3961776e38f};
        for (float x : specials) {
            assertThat(F16.fromFloat(x) & 0xFFFF).as("f16 %s", x).isEqualTo(HALF.roundNearestEven(x));
            assertThat(Bf16.fromFloat(x) & 0xFFFF).as("bf16 %s", x).isEqualTo(BF.roundNearestEven(x));
        }
    }

    @Test
    void knownValuesFromTheDefinitions() {
        assertThat(F16.fromFloat(65520f)).isEqualTo((short) 0x7C00); // tie with 65504 (odd) -> inf
        assertThat(F16.fromFloat(65519f)).isEqualTo((short) 0x7BFF);
        assertThat(F16.fromFloat(-1e9f)).isEqualTo((short) 0xFC00);
        assertThat(F16.fromFloat(2.9802322e-8f)).isEqualTo((short) 0x0000); // 2^-25: tie between 0 and 2^-24 -> 0
        assertThat(F16.fromFloat(2.9802326e-8f)).isEqualTo((short) 0x0001);
        assertThat(F16.fromFloat(-1e-10f)).isEqualTo((short) 0x8000);
        assertThat(F16.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3C00); // tie -> even 1.0
        assertThat(F16.fromFloat(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02); // tie -> even 1+2^-9
        assertThat(Bf16.fromFloat(1f + 0x1p-8f)).isEqualTo((short) 0x3F80);
        assertThat(Bf16.fromFloat(1f + 3 * 0x1p-8f)).isEqualTo((short) 0x3F82);
        assertThat(Bf16.fromFloat(Float.MAX_VALUE)).isEqualTo((short) 0x7F80);
        assertThat(Bf16.fromFloat(Float.MIN_VALUE)).isEqualTo((short) 0x0000);
        assertThat(Bf16.fromFloat(Float.intBitsToFloat(0x00018000))).isEqualTo((short) 0x0002);
    }

    @Test
    void nanHandlingMatchesC10() {
        int[] nans = {0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0x7FA00000};
        for (int n : nans) {
            float x = Float.intBitsToFloat(n);
            assertThat(F16.fromFloat(x) & 0xFFFF).isEqualTo(((n >>> 16) & 0x8000) | 0x7E00);
            assertThat(Bf16.fromFloat(x)).isEqualTo((short) 0x7FC0);
        }
    }

    @Test
    void bulkPathsAgreeWithScalarOnAllPatterns() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(2 * 65536);
            for (int b = 0; b < 65536; b++) {
                src.set(LE16, 2L * b, (short) b);
            }
            MemorySegment f16 = arena.allocate(2 * 65536);
            MemorySegment f32 = arena.allocate(4 * 65536);
            MemorySegment bf16 = arena.allocate(2 * 65536);
            FloatCodec.convert(src, DType.BF16, f16, DType.F16, 65536);
            FloatCodec.convert(src, DType.BF16, f32, DType.F32, 65536);
            FloatCodec.convert(f32, DType.F32, bf16, DType.BF16, 65536);
            for (int b = 0; b < 65536; b++) {
                float v = Bf16.toFloat((short) b);
                assertThat(f16.get(LE16, 2L * b)).as("0x%04X", b).isEqualTo(F16.fromFloat(v));
                assertThat(Float.floatToRawIntBits(f32.get(FloatCodec.LE_FLOAT, 4L * b))).isEqualTo(Float.floatToRawIntBits(v));
                assertThat(bf16.get(LE16, 2L * b)).isEqualTo(Bf16.fromFloat(v));
            }
            FloatCodec.convert(src, DType.F16, f32, DType.F32, 65536);
            FloatCodec.convert(f32, DType.F32, f16, DType.F16, 65536);
            for (int b = 0; b < 65536; b++) {
                assertThat(f16.get(LE16, 2L * b)).isEqualTo(F16.fromFloat(F16.toFloat((short) b)));
            }
        }
    }

    @Test
    void f64DecodesAndEncodes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate(16);
            FloatCodec.encode(new float[] {1.5f, -2.25f}, 0, 2, DType.F64, d, 0);
            assertThat(d.get(FloatCodec.LE_DOUBLE, 8)).isEqualTo(-2.25);
            float[] back = new float[2];
            FloatCodec.decode(d, 0, DType.F64, back, 0, 2);
            assertThat(back).containsExactly(1.5f, -2.25f);
        }
    }

    private static int encode(Ieee16Reference ref, float x) {
        return (ref == HALF ? F16.fromFloat(x) : Bf16.fromFloat(x)) & 0xFFFF;
    }
}

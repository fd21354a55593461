package dev.ckpt.tools.ops.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.numeric.FloatCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API bf16 codec against the plain {@link FloatCodec} (c10 rounding), bit for bit. */
class Bf16VectorTest {
    @Test
    void encodeAndDecodeEqualThePlainCodec() {
        Random rnd = new Random(5);
        float[] specials = {0f, -0f, Float.NaN, Float.intBitsToFloat(0xFFC00001), Float.intBitsToFloat(0x7F800001),
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE,
            Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), Float.intBitsToFloat(0x3F808001),
            Float.intBitsToFloat(0x7F7FFFFF), Float.intBitsToFloat(0x007FFFFF), 1.0009765625f};
        int count = 100_003; // not a multiple of the vector length: the scalar tail runs too
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = switch (i % 3) {
                case 0 -> Float.intBitsToFloat(rnd.nextInt());
                case 1 -> specials[rnd.nextInt(specials.length)];
                default -> (float) rnd.nextGaussian();
            };
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vector = arena.allocate(2L * count + 6);
            MemorySegment plain = arena.allocate(2L * count + 6);
            Bf16Vector.encode(values, count, vector, 6);
            FloatCodec.encode(values, 0, count, DType.BF16, plain, 6);
            assertThat(vector.mismatch(plain)).isEqualTo(-1L);

            float[] v = new float[count];
            float[] p = new float[count];
            Bf16Vector.decode(plain, 6, v, count);
            FloatCodec.decode(plain, 6, DType.BF16, p, 0, count);
            for (int i = 0; i < count; i++) {
                if (Float.floatToRawIntBits(v[i]) != Float.floatToRawIntBits(p[i])) {
                    throw new AssertionError("decode element " + i);
                }
            }
        }
    }
}

package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.numeric.Bf16;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * bf16 ↔ f32 for {@link ViewRows} and {@link SegmentSink} with the Vector API: decoding widens
 * (a bf16 is the top half of its f32); encoding rounds to nearest even on the bits and maps every
 * NaN to {@link Bf16#QUIET_NAN}, exactly {@link Bf16#fromFloat}. Only loaded when {@link Simd#AVAILABLE}.
 */
final class Bf16Vector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final int N = F.length();
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bf16Vector() {
    }

    /** {@code dst[i] = f32(bf16 at byteOffset + 2i)} for {@code i < count}. */
    static void decode(MemorySegment src, long byteOffset, float[] dst, int count) {
        int i = 0;
        for (; i + N <= count; i += N) {
            ShortVector s = ShortVector.fromMemorySegment(S, src, byteOffset + 2L * i, ByteOrder.LITTLE_ENDIAN);
            ((IntVector) s.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16)
                    .reinterpretAsFloats().intoArray(dst, i);
        }
        for (; i < count; i++) {
            dst[i] = Bf16.toFloat(src.get(LE_SHORT, byteOffset + 2L * i));
        }
    }

    /** Stores {@code bf16(src[i])} at {@code byteOffset + 2i} for {@code i < count}. */
    static void encode(float[] src, int count, MemorySegment dst, long byteOffset) {
        int i = 0;
        for (; i + N <= count; i += N) {
            FloatVector f = FloatVector.fromArray(F, src, i);
            VectorMask<Integer> nan = f.test(VectorOperators.IS_NAN).cast(I);
            IntVector u = f.reinterpretAsInts();
            IntVector rounded = u.add(0x7FFF).add(u.lanewise(VectorOperators.LSHR, 16).and(1))
                    .lanewise(VectorOperators.LSHR, 16)
                    .blend(Bf16.QUIET_NAN, nan);
            ((ShortVector) rounded.convertShape(VectorOperators.I2S, S, 0))
                    .intoMemorySegment(dst, byteOffset + 2L * i, ByteOrder.LITTLE_ENDIAN);
        }
        for (; i < count; i++) {
            dst.set(LE_SHORT, byteOffset + 2L * i, Bf16.fromFloat(src[i]));
        }
    }
}

package dev.ckpt.formats.numeric;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The row paths of {@link FloatCodec} ({@code decode}/{@code encode} at byte and array offsets), which
 * quantize calls once per row: exact on every 16-bit pattern, and free of per-call arrays.
 */
class FloatCodecRowTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void rowsAtOffsetsRoundTripEvery16BitPattern() {
        try (Arena arena = Arena.ofConfined()) {
            // 65536 patterns as 32 rows of 2048, stored after 6 bytes of padding (unaligned reads).
            MemorySegment src = arena.allocate(6 + 2 * 65536);
            for (int b = 0; b < 65536; b++) {
                src.set(LE16, 6 + 2L * b, (short) b);
            }
            for (DType t : new DType[] {DType.BF16, DType.F16}) {
                MemorySegment back = arena.allocate(10 + 2 * 65536);
                float[] row = new float[3 + 2048];
                for (int r = 0; r < 32; r++) {
                    FloatCodec.decode(src, 6 + 4096L * r, t, row, 3, 2048);
                    for (int i = 0; i < 2048; i++) {
                        short bits = (short) (r * 2048 + i);
                        float want = t == DType.BF16 ? Bf16.toFloat(bits) : F16.toFloat(bits);
                        assertThat(Float.floatToRawIntBits(row[3 + i])).as("%s 0x%04X", t, bits & 0xFFFF)
                                .isEqualTo(Float.floatToRawIntBits(want));
                    }
                    FloatCodec.encode(row, 3, 2048, t, back, 10 + 4096L * r);
                }
                for (int b = 0; b < 65536; b++) {
                    float v = t == DType.BF16 ? Bf16.toFloat((short) b) : F16.toFloat((short) b);
                    short want = t == DType.BF16 ? Bf16.fromFloat(v) : F16.fromFloat(v);
                    assertThat(back.get(LE16, 10 + 2L * b)).as("%s 0x%04X", t, b).isEqualTo(want);
                }
            }
        }
    }

    @Test
    void encodeRoundsRandomFloatsLikeTheScalarCodecs() {
        SplittableRandom rnd = new SplittableRandom(8);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = Float.intBitsToFloat(rnd.nextInt());
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate(2 + 2L * x.length);
            FloatCodec.encode(x, 1, 999, DType.BF16, d, 2);
            for (int i = 1; i < 1000; i++) {
                assertThat(d.get(LE16, 2L * i)).isEqualTo(Bf16.fromFloat(x[i]));
            }
            FloatCodec.encode(x, 1, 999, DType.F16, d, 2);
            for (int i = 1; i < 1000; i++) {
                assertThat(d.get(LE16, 2L * i)).isEqualTo(F16.fromFloat(x[i]));
            }
        }
    }

    @Test
    void rowDecodeAndEncodeAllocateNoArrays() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2 * 4096);
            float[] row = new float[4096];
            for (int warm = 0; warm < 2; warm++) {
                long before = mx.getThreadAllocatedBytes(id);
                for (int r = 0; r < 1000; r++) {
                    FloatCodec.decode(seg, 0, DType.BF16, row, 0, 4096);
                    FloatCodec.encode(row, 0, 4096, DType.F16, seg, 0);
                }
                long perRow = (mx.getThreadAllocatedBytes(id) - before) / 1000;
                // A staging short[4096] per call would be 2 x 8 KiB per iteration; a slice object or two
                // (before escape analysis removes them) stays well below that.
                assertThat(perRow).as("bytes allocated per decode+encode of a 4096-element row").isLessThan(1024);
            }
        }
    }
}

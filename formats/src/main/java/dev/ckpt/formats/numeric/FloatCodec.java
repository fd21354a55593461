package dev.ckpt.formats.numeric;

import dev.ckpt.formats.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Bulk little-endian conversions between the float dtypes (F32, F16, BF16; F64 to and from float),
 * rounding exactly as {@link F16#fromFloat} and {@link Bf16#fromFloat}. {@link #decode} and
 * {@link #encode} read and write the segment element by element and allocate no arrays (they run once
 * per row in the quantizer); {@link #convert} uses one array of {@link #CHUNK_ELEMENTS} floats per call.
 * Stateless and thread-safe.
 */
public final class FloatCodec {
    /** Elements converted per inner step; the heap used per call is a few times this. */
    public static final int CHUNK_ELEMENTS = 1 << 16;

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble LE_DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FloatCodec() {
    }

    /** True when {@link #convert} and friends support {@code type}. */
    public static boolean supports(DType type) {
        return type == DType.F32 || type == DType.F16 || type == DType.BF16 || type == DType.F64;
    }

    /**
     * Decodes {@code count} elements of {@code type} starting at {@code srcByteOffset} into {@code dst}.
     *
     * @throws IllegalArgumentException for a dtype other than F32, F16, BF16, F64
     */
    public static void decode(MemorySegment src, long srcByteOffset, DType type, float[] dst, int dstOff, int count) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, LE_FLOAT, srcByteOffset, dst, dstOff, count);
            case F16 -> {
                // Element by element from the segment: no staging array, so decoding a row allocates nothing
                // (quantize decodes one row at a time; per-row arrays were most of its garbage).
                MemorySegment s = src.asSlice(srcByteOffset, 2L * count);
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Float.float16ToFloat(s.get(LE_SHORT, 2L * i));
                }
            }
            case BF16 -> {
                MemorySegment s = src.asSlice(srcByteOffset, 2L * count);
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Float.intBitsToFloat((s.get(LE_SHORT, 2L * i) & 0xFFFF) << 16);
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = (float) src.get(LE_DOUBLE, srcByteOffset + 8L * i);
                }
            }
            default -> throw unsupported(type);
        }
    }

    /**
     * Encodes {@code count} floats from {@code src} as {@code type} at {@code dstByteOffset}.
     *
     * @throws IllegalArgumentException for a dtype other than F32, F16, BF16, F64
     */
    public static void encode(float[] src, int srcOff, int count, DType type, MemorySegment dst, long dstByteOffset) {
        switch (type) {
            case F32 -> MemorySegment.copy(src, srcOff, dst, LE_FLOAT, dstByteOffset, count);
            case F16 -> {
                // Straight into the segment, as decode reads: no per-call staging array.
                MemorySegment d = dst.asSlice(dstByteOffset, 2L * count);
                for (int i = 0; i < count; i++) {
                    d.set(LE_SHORT, 2L * i, F16.fromFloat(src[srcOff + i]));
                }
            }
            case BF16 -> {
                MemorySegment d = dst.asSlice(dstByteOffset, 2L * count);
                for (int i = 0; i < count; i++) {
                    d.set(LE_SHORT, 2L * i, Bf16.fromFloat(src[srcOff + i]));
                }
            }
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    dst.set(LE_DOUBLE, dstByteOffset + 8L * i, src[srcOff + i]);
                }
            }
            default -> throw unsupported(type);
        }
    }

    /**
     * Converts {@code elementCount} elements from {@code src} ({@code from}) into {@code dst} ({@code to}),
     * both starting at byte 0. Same-type conversion is a copy.
     *
     * @throws IllegalArgumentException for unsupported dtypes or segments too small
     */
    public static void convert(MemorySegment src, DType from, MemorySegment dst, DType to, long elementCount) {
        if (!supports(from) || !supports(to)) {
            throw unsupported(supports(from) ? to : from);
        }
        if (src.byteSize() < from.byteSizeFor(elementCount) || dst.byteSize() < to.byteSizeFor(elementCount)) {
            throw new IllegalArgumentException("segments too small for " + elementCount + " elements");
        }
        if (from == to) {
            MemorySegment.copy(src, 0, dst, 0, from.byteSizeFor(elementCount));
            return;
        }
        if (from == DType.BF16 && to == DType.F16) {
            bf16ToF16(src, dst, elementCount);
            return;
        }
        float[] buf = new float[(int) Math.min(elementCount, CHUNK_ELEMENTS)];
        int fromBytes = from.bitSize() / 8;
        int toBytes = to.bitSize() / 8;
        for (long done = 0; done < elementCount; done += buf.length) {
            int n = (int) Math.min(buf.length, elementCount - done);
            decode(src, done * fromBytes, from, buf, 0, n);
            encode(buf, 0, n, to, dst, done * toBytes);
        }
    }

    /** The hot path of the converter benchmark: bf16 -> f16 through a 65,536-entry table (exact: built from the scalar codecs). */
    private static void bf16ToF16(MemorySegment src, MemorySegment dst, long elementCount) {
        short[] table = Tables.BF16_TO_F16;
        for (long done = 0; done < elementCount; done += CHUNK_ELEMENTS) {
            int n = (int) Math.min(CHUNK_ELEMENTS, elementCount - done);
            MemorySegment s = src.asSlice(2 * done, 2L * n);
            MemorySegment d = dst.asSlice(2 * done, 2L * n);
            // Straight from segment to segment: no staging copies (int-indexed so C2 hoists the bounds checks).
            for (int i = 0; i < n; i++) {
                d.set(LE_SHORT, 2L * i, table[s.get(LE_SHORT, 2L * i) & 0xFFFF]);
            }
        }
    }

    /** Lookup tables, built on first use. */
    private static final class Tables {
        static final short[] BF16_TO_F16 = new short[65536];

        static {
            for (int b = 0; b < 65536; b++) {
                BF16_TO_F16[b] = F16.fromFloat(Bf16.toFloat((short) b));
            }
        }
    }

    private static IllegalArgumentException unsupported(DType type) {
        return new IllegalArgumentException("no float conversion for " + type + " (supported: F32, F16, BF16, F64)");
    }
}

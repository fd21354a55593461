package dev.ckpt.formats.torch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Copies a strided tensor (a transposed or sliced view of a storage) into contiguous row-major
 * memory. Iterative over all but the innermost dimension; innermost runs with stride 1 are copied
 * in one block, others element by element.
 */
final class StridedGather {
    private StridedGather() {
    }

    /** True when {@code size}/{@code stride} (in elements) describe row-major contiguous memory. */
    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] == 0) {
                return true;
            }
            if (size[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= size[i];
        }
        return true;
    }

    /**
     * Gathers the elements of the strided tensor into {@code target}, which has exactly
     * {@code elementCount × elementBytes} bytes. Offsets and strides were validated against
     * {@code storage} by the reader, so every read is in range.
     */
    static void gather(MemorySegment storage, long offset, long[] size, long[] stride, int elementBytes,
                       MemorySegment target) {
        int rank = size.length;
        if (target.byteSize() == 0) {
            return;
        }
        if (rank == 0) {
            MemorySegment.copy(storage, offset * elementBytes, target, 0, elementBytes);
            return;
        }
        long inner = size[rank - 1];
        long innerStride = stride[rank - 1];
        long[] index = new long[rank - 1];
        long out = 0;
        long base = offset;
        while (true) {
            if (innerStride == 1) {
                MemorySegment.copy(storage, base * elementBytes, target, out, inner * elementBytes);
                out += inner * elementBytes;
            } else {
                out = copyStrided(storage, base, innerStride, inner, elementBytes, target, out);
            }
            int d = rank - 2;
            while (d >= 0) {
                index[d]++;
                base += stride[d];
                if (index[d] < size[d]) {
                    break;
                }
                base -= stride[d] * size[d];
                index[d] = 0;
                d--;
            }
            if (d < 0) {
                return;
            }
        }
    }

    private static long copyStrided(MemorySegment src, long base, long stride, long count, int elementBytes,
                                    MemorySegment dst, long out) {
        switch (elementBytes) {
            case 2 -> {
                for (long i = 0; i < count; i++, out += 2) {
                    dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, out,
                            src.get(ValueLayout.JAVA_SHORT_UNALIGNED, (base + i * stride) * 2));
                }
            }
            case 4 -> {
                for (long i = 0; i < count; i++, out += 4) {
                    dst.set(ValueLayout.JAVA_INT_UNALIGNED, out,
                            src.get(ValueLayout.JAVA_INT_UNALIGNED, (base + i * stride) * 4));
                }
            }
            case 8 -> {
                for (long i = 0; i < count; i++, out += 8) {
                    dst.set(ValueLayout.JAVA_LONG_UNALIGNED, out,
                            src.get(ValueLayout.JAVA_LONG_UNALIGNED, (base + i * stride) * 8));
                }
            }
            default -> {
                for (long i = 0; i < count; i++, out += elementBytes) {
                    MemorySegment.copy(src, (base + i * stride) * elementBytes, dst, out, elementBytes);
                }
            }
        }
        return out;
    }
}

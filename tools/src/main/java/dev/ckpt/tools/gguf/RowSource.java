package dev.ckpt.tools.gguf;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.tools.quant.BlockCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.function.LongUnaryOperator;

/**
 * A tensor read row by row as f32: {@link #rows()} rows of {@link #rowLength()} elements, random
 * access, thread-safe (callers pass their own buffers). Backed by a mapped view, never copied whole.
 */
public interface RowSource {
    long rows();

    int rowLength();

    /** Decodes row {@code row} into {@code dst[0..rowLength)}. */
    void read(long row, float[] dst);

    /** Decodes row {@code row} into {@code dst[dstOff..dstOff+rowLength)}. */
    default void read(long row, float[] dst, int dstOff) {
        if (dstOff == 0) {
            read(row, dst);
            return;
        }
        float[] tmp = new float[rowLength()]; // fallback only: the sources here override this method
        read(row, tmp);
        System.arraycopy(tmp, 0, dst, dstOff, tmp.length);
    }

    /**
     * Drops rows {@code [from, to)} of a memory-mapped source from this process's resident memory
     * (they stay in the page cache); keeps resident memory flat while streaming. Default: no-op.
     */
    default void release(long from, long to) {
    }

    /** Rows of a safetensors-style view (F32, F16, BF16, F64), {@code rowLength} elements each. */
    static RowSource of(TensorView view, int rowLength) {
        DType dt = view.info().dtype();
        if (!FloatCodec.supports(dt)) {
            throw new IllegalArgumentException(view.info().name() + ": cannot convert " + dt + " to float");
        }
        long n = view.info().elementCount();
        long rows = rowLength == 0 ? 0 : n / rowLength;
        long rowBytes = dt.byteSizeFor(rowLength);
        MemorySegment data = view.data();
        return new RowSource() {
            public long rows() {
                return rows;
            }

            public int rowLength() {
                return rowLength;
            }

            public void read(long row, float[] dst) {
                FloatCodec.decode(data, row * rowBytes, dt, dst, 0, rowLength);
            }

            public void read(long row, float[] dst, int dstOff) {
                FloatCodec.decode(data, row * rowBytes, dt, dst, dstOff, rowLength);
            }

            public void release(long from, long to) {
                MappedMemory.release(data.asSlice(from * rowBytes, (to - from) * rowBytes));
            }
        };
    }

    /** Longest row {@link #ofGguf} decodes: a float[] of this many elements is allocated per row (256 MiB). */
    int MAX_GGUF_ROW_ELEMENTS = 1 << 26;

    /**
     * Refuses, in one line, a GGUF tensor {@link #ofGguf} cannot decode: a type without a decoder (IQ*, Q2_K, Q3_K,
     * integers), or rows longer than {@link #MAX_GGUF_ROW_ELEMENTS} (a hostile header can claim a 2^40-element row
     * of an empty tensor; its row buffer alone would exhaust the heap).
     */
    static void checkGguf(GgufTensorInfo t, Path file) throws FormatException {
        GgmlType type = t.type();
        boolean decodable = type.isQuantized() ? BlockCodec.supports(type)
                : type.dtype() != null && FloatCodec.supports(type.dtype());
        if (!decodable) {
            throw new FormatException(file, Kind.UNSUPPORTED, "tensor "
                    + t.name() + " is " + type + ", which ckpt cannot decode (F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0,"
                    + " Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)");
        }
        if (t.rowLength() == 0 && t.rowCount() > 0) {
            // [0, 2^40] holds no bytes, yet a row loop over it would spin for hours
            throw new FormatException(file, Kind.TENSOR_INVALID_INFO, "tensor " + t.name() + " has " + t.rowCount()
                    + " rows of 0 elements");
        }
        if (t.rowLength() > MAX_GGUF_ROW_ELEMENTS) {
            throw new FormatException(file, Kind.LIMIT_EXCEEDED, "tensor "
                    + t.name() + " has rows of " + t.rowLength() + " elements; ckpt decodes rows of at most "
                    + MAX_GGUF_ROW_ELEMENTS);
        }
    }

    /** Rows of a GGUF tensor of any supported type (quantized ones are dequantized); see {@link #checkGguf}. */
    static RowSource ofGguf(GgufTensorInfo t, MemorySegment bytes) {
        GgmlType type = t.type();
        int rowLength = Math.toIntExact(t.rowLength());
        long rows = t.rowCount();
        long rowBytes = type.rowBytes(rowLength);
        if (!type.isQuantized()) {
            DType dt = type.dtype();
            if (dt == null || !FloatCodec.supports(dt)) {
                throw new IllegalArgumentException(t.name() + ": cannot convert " + type + " to float");
            }
            return new RowSource() {
                public long rows() {
                    return rows;
                }

                public int rowLength() {
                    return rowLength;
                }

                public void read(long row, float[] dst) {
                    FloatCodec.decode(bytes, row * rowBytes, dt, dst, 0, rowLength);
                }

                public void read(long row, float[] dst, int dstOff) {
                    FloatCodec.decode(bytes, row * rowBytes, dt, dst, dstOff, rowLength);
                }

                public void release(long from, long to) {
                    MappedMemory.release(bytes.asSlice(from * rowBytes, (to - from) * rowBytes));
                }
            };
        }
        BlockCodec codec = BlockCodec.of(type);
        return new RowSource() {
            public long rows() {
                return rows;
            }

            public int rowLength() {
                return rowLength;
            }

            public void read(long row, float[] dst) {
                read(row, dst, 0);
            }

            public void read(long row, float[] dst, int dstOff) {
                // the raw row goes through a per-thread array: one allocation per row was garbage at input rate
                byte[] raw = ScratchArrays.DEQUANT.bytes((int) rowBytes);
                MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, row * rowBytes, raw, 0, (int) rowBytes);
                codec.dequantize(raw, 0, rowLength, dst, dstOff);
            }

            public void release(long from, long to) {
                MappedMemory.release(bytes.asSlice(from * rowBytes, (to - from) * rowBytes));
            }
        };
    }

    /**
     * This source with rows reordered: output row r reads row {@code map(r)}. {@link #release} of output
     * rows {@code [from, to)} releases the source rows from the smallest to the largest they read (for
     * the rotary permutation, the same heads), so a reordered tensor streams as flat as a plain one.
     */
    default RowSource reordered(LongUnaryOperator map) {
        RowSource base = this;
        return new RowSource() {
            public long rows() {
                return base.rows();
            }

            public int rowLength() {
                return base.rowLength();
            }

            public void read(long row, float[] dst) {
                base.read(map.applyAsLong(row), dst);
            }

            public void read(long row, float[] dst, int dstOff) {
                base.read(map.applyAsLong(row), dst, dstOff);
            }

            public void release(long from, long to) {
                if (from >= to) {
                    return;
                }
                long lo = Long.MAX_VALUE;
                long hi = Long.MIN_VALUE;
                for (long r = from; r < to; r++) {
                    long s = map.applyAsLong(r);
                    lo = Math.min(lo, s);
                    hi = Math.max(hi, s);
                }
                // Rows in between that other chunks still need are only dropped from this process's
                // page tables, not from the page cache: a later read maps them again.
                base.release(lo, hi + 1);
            }
        };
    }
}

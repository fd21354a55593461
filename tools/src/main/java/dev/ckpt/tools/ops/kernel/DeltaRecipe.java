package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.RangeRecipe;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Streams {@code out = other ± base} for any byte range of the output, as the safetensors writer
 * asks for it ({@link RangeRecipe}): positional reads of the matching byte ranges of both inputs
 * ({@link TensorRangeReader}) into per-thread buffers that stay in the CPU cache, the arithmetic of
 * {@link DeltaKernel}, and the result straight into the writer's buffer. Nothing is memory-mapped:
 * reading mapped inputs cost page faults and releases that were ~40 % of an apply-delta run.
 *
 * <p>The base may have fewer rows than {@code other} (vocab grown by LLaVA). With equal columns its
 * elements are a prefix of {@code other}'s in row-major order, so elements past the base's count
 * keep {@code other}'s bytes as stored (LLaVA's top-left block rule). Without a base the recipe is
 * a copy of {@code other}, converted (one rounding) when the output dtype differs.
 *
 * <p>Dtypes: the output dtype is {@code other}'s for combined tensors. BF16 ± BF16 uses the
 * int-packed kernel; every other F32/F16/BF16 mix decodes to f32, combines and rounds once.
 * Memory: about {@link #CHUNK_ELEMENTS} × 16 bytes per writer thread, whatever the tensor size.
 */
public final class DeltaRecipe implements RangeRecipe {
    /** Elements per read: 128 KiB of bf16 per input, large enough that a pread call costs little, small enough for a core's L2. */
    static final int CHUNK_ELEMENTS = 1 << 16;

    /** Reused across tensors: allocating (and zeroing) per range would cost more than small reads. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final TensorRangeReader otherReader;
    private final TensorInfo other;
    private final TensorRangeReader baseReader;
    private final TensorInfo base;
    private final DeltaKernel.Op op;
    private final DType out;
    private final long baseElements;

    private DeltaRecipe(TensorRangeReader otherReader, TensorInfo other, TensorRangeReader baseReader, TensorInfo base,
                        DeltaKernel.Op op, DType out) {
        this.otherReader = Objects.requireNonNull(otherReader, "otherReader");
        this.other = Objects.requireNonNull(other, "other");
        this.baseReader = baseReader;
        this.base = base;
        this.op = op;
        this.out = Objects.requireNonNull(out, "out");
        this.baseElements = base == null ? 0 : base.elementCount();
        if (!FloatCodec.supports(out) && out != other.dtype()) {
            throw new IllegalArgumentException(other.name() + ": cannot convert " + other.dtype() + " to " + out);
        }
    }

    /**
     * {@code other ± base}, stored in {@code other}'s dtype.
     *
     * @throws IllegalArgumentException when {@code base} is not a top-left block of {@code other}
     *                                  (same trailing dims, at most as many rows) or a dtype is not F32/F16/BF16
     */
    public static DeltaRecipe combine(TensorRangeReader otherReader, TensorInfo other, TensorRangeReader baseReader,
                                      TensorInfo base, DeltaKernel.Op op) {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(op, "op");
        if (other.shape().rank() != base.shape().rank() || other.shape().rowLength() != base.shape().rowLength()
                || base.elementCount() > other.elementCount()) {
            throw new IllegalArgumentException("base " + base.shape() + " is not a top-left block of " + other.shape()
                    + " for tensor '" + other.name() + "'");
        }
        if (!other.dtype().isComputeFloat() || !base.dtype().isComputeFloat()) {
            throw new IllegalArgumentException("tensor '" + other.name() + "': cannot compute on " + base.dtype() + " and " + other.dtype());
        }
        return new DeltaRecipe(otherReader, other, baseReader, base, op, other.dtype());
    }

    /** {@code source}'s bytes as {@code out}: a plain copy when the dtypes agree, else one RNE rounding. */
    public static DeltaRecipe copy(TensorRangeReader reader, TensorInfo source, DType out) {
        return new DeltaRecipe(reader, source, null, null, DeltaKernel.Op.ADD, out);
    }

    @Override
    public void fillRange(long byteOffset, MemorySegment target) throws IOException {
        if (base == null && out == other.dtype()) { // a plain copy: bytes, whatever the dtype (sub-byte ones too)
            otherReader.read(other.name(), byteOffset, target);
            return;
        }
        int outBytes = out.bitSize() / 8;
        long first = byteOffset / outBytes;
        long count = target.byteSize() / outBytes;
        for (long done = 0; done < count; done += CHUNK_ELEMENTS) {
            int n = (int) Math.min(CHUNK_ELEMENTS, count - done);
            long e0 = first + done;
            int combined = (int) Math.max(0, Math.min(n, baseElements - e0));
            MemorySegment dst = target.asSlice(done * outBytes, (long) n * outBytes);
            if (combined > 0) {
                combine(e0, combined, dst);
            }
            if (combined < n) {
                otherOnly(e0 + combined, n - combined, dst.asSlice((long) combined * outBytes));
            }
        }
    }

    /** Elements {@code [e0, e0 + n)} of both inputs, combined into {@code dst}. */
    private void combine(long e0, int n, MemorySegment dst) throws IOException {
        Scratch s = SCRATCH.get();
        if (other.dtype() == DType.BF16 && base.dtype() == DType.BF16) {
            // The result is computed in place where other's bytes are read: no staging for them.
            MemorySegment bs = s.staging.asSlice(0, 2L * n);
            otherReader.read(other.name(), 2 * e0, dst);
            baseReader.read(base.name(), 2 * e0, bs);
            DeltaKernel.bf16(dst, bs, n, op);
            return;
        }
        decode(otherReader, other, e0, n, s.values, s);
        decode(baseReader, base, e0, n, s.baseValues, s);
        DeltaKernel.f32(s.values, s.baseValues, n, op);
        FloatCodec.encode(s.values, 0, n, out, dst, 0);
    }

    /** Elements of {@code other} past the base: its bytes as stored, or converted once to {@code out}. */
    private void otherOnly(long e0, int n, MemorySegment dst) throws IOException {
        if (other.dtype() == out) {
            otherReader.read(other.name(), e0 * (out.bitSize() / 8), dst);
            return;
        }
        Scratch s = SCRATCH.get();
        decode(otherReader, other, e0, n, s.values, s);
        FloatCodec.encode(s.values, 0, n, out, dst, 0);
    }

    private static void decode(TensorRangeReader reader, TensorInfo t, long e0, int n, float[] into, Scratch s) throws IOException {
        int bytes = t.dtype().bitSize() / 8;
        MemorySegment raw = s.staging.asSlice(0, (long) n * bytes);
        reader.read(t.name(), e0 * bytes, raw);
        FloatCodec.decode(raw, 0, t.dtype(), into, 0, n);
    }

    /** One writer thread's buffers: raw bytes of one input (8 bytes an element covers F64) and f32 values. */
    private static final class Scratch {
        final MemorySegment staging = Arena.ofAuto().allocate(8L * CHUNK_ELEMENTS, 64);
        final float[] values = new float[CHUNK_ELEMENTS];
        final float[] baseValues = new float[CHUNK_ELEMENTS];
    }
}

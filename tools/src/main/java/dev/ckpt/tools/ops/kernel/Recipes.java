package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FileCopyRecipe;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.numeric.FloatCodec;
import java.lang.foreign.MemorySegment;

/**
 * The recipes of delta and LoRA plans. Each reads its inputs only when the writer fills the
 * tensor, so planning touches no tensor bytes. merge-lora copies through mapped views
 * ({@link #copy}); apply-delta and make-delta stream with positional reads ({@link #delta},
 * {@link #streamedCopy}).
 */
public final class Recipes {
    /** Bytes copied between releases of the mapped pages. */
    private static final long CHUNK_BYTES = 8L << 20;

    private Recipes() {
    }

    /** The bytes of {@code name} in {@code source}, converted (one RNE rounding) when {@code out} differs. */
    public static TensorRecipe copy(Checkpoint source, String name, DType out) {
        return target -> {
            TensorView v = source.view(name);
            DType in = v.info().dtype();
            long count = v.info().elementCount();
            int inBytes = Math.max(1, in.bitSize() / 8);
            int outBytes = Math.max(1, out.bitSize() / 8);
            if (in == out) {
                for (long off = 0; off < v.data().byteSize(); off += CHUNK_BYTES) {
                    long n = Math.min(CHUNK_BYTES, v.data().byteSize() - off);
                    MemorySegment.copy(v.data(), off, target, off, n);
                    MappedMemory.release(v.data().asSlice(off, n));
                    MappedMemory.release(target.asSlice(off, n));
                }
                return;
            }
            long per = CHUNK_BYTES / Math.max(inBytes, outBytes);
            for (long done = 0; done < count; done += per) {
                long n = Math.min(per, count - done);
                MemorySegment s = v.data().asSlice(done * inBytes, n * inBytes);
                MemorySegment d = target.asSlice(done * outBytes, n * outBytes);
                FloatCodec.convert(s, in, d, out, n);
                MappedMemory.release(s);
                MappedMemory.release(d);
            }
        };
    }

    /**
     * {@code other ± base} in f32, one rounding into {@code other}'s dtype, streamed with positional
     * reads (see {@link DeltaRecipe}); the readers must stay open until the tensor is written.
     */
    public static TensorRecipe delta(TensorRangeReader baseReader, TensorInfo base, TensorRangeReader otherReader,
                                     TensorInfo other, DeltaKernel.Op op) {
        return DeltaRecipe.combine(otherReader, other, baseReader, base, op);
    }

    /**
     * {@code t}'s bytes from {@code source} as {@code out}, streamed with positional reads. A same-dtype
     * copy of a tensor stored as a plain file range is a {@link FileCopyRecipe}, which the safetensors
     * writer copies inside the kernel ({@code copy_file_range}) without passing through user space.
     */
    public static TensorRecipe streamedCopy(Checkpoint source, TensorRangeReader reader, TensorInfo t, DType out) {
        DeltaRecipe read = DeltaRecipe.copy(reader, t, out);
        if (out != t.dtype()) {
            return read;
        }
        return source.fileRange(t.name()).<TensorRecipe>map(r -> new FileCopyRecipe(r, read)).orElse(read);
    }
}

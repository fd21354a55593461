package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.numeric.FloatCodec;
import java.lang.foreign.MemorySegment;

/**
 * The recipes shared by delta and LoRA plans. Each opens its input views only when the writer
 * fills the tensor, so planning touches no tensor bytes.
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

    /** {@code other ± base} in f32, one rounding into {@code out}; see {@link DeltaKernel}. */
    public static TensorRecipe delta(Checkpoint base, Checkpoint other, String name, DeltaKernel.Op op, DType out) {
        return target -> {
            Rows o = new ViewRows(other.view(name));
            DeltaKernel.run(o, new ViewRows(base.view(name)), op, new SegmentSink(target, out, o.cols()));
        };
    }
}

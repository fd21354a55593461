package dev.ckpt.tools.ops.kernel;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.numeric.FloatCodec;
import java.lang.foreign.MemorySegment;

/**
 * The recipes shared by delta and LoRA plans. Each opens its input views only when the writer
 * fills the tensor, so planning touches no tensor bytes.
 */
public final class Recipes {
    private Recipes() {
    }

    /** The bytes of {@code name} in {@code source}, converted (one RNE rounding) when {@code out} differs. */
    public static TensorRecipe copy(Checkpoint source, String name, DType out) {
        return target -> {
            TensorView v = source.view(name);
            DType in = v.info().dtype();
            if (in == out) {
                MemorySegment.copy(v.data(), 0, target, 0, v.data().byteSize());
            } else {
                FloatCodec.convert(v.data(), in, target, out, v.info().elementCount());
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

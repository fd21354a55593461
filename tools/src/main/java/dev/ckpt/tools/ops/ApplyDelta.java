package dev.ckpt.tools.ops;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.delta.DeltaPlanner;
import dev.ckpt.tools.ops.plan.OutputPlan;
import dev.ckpt.tools.ops.plan.PlanExecution;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * {@code target = base + delta} for LLaVA and Vicuna delta weights (algorithms.md 1.1-1.2).
 *
 * <p>Every delta tensor gets the base added in f32 and is rounded once (RNE) into the delta's
 * dtype: for fp16 inputs that is bit-identical to PyTorch's {@code d += b} in LLaVA's
 * {@code apply_delta.py}. {@code embed_tokens}/{@code lm_head} may have more rows in the delta (the
 * rows past the base keep the delta's values); tensors only in the delta must be the projector and
 * are copied. With {@code strict}, FastChat's rule applies: identical names and shapes. Config and
 * tokenizer files come from the delta (base files fill gaps).
 *
 * <p>Memory and speed: every tensor is streamed range by range (positional reads of both inputs
 * into small per-thread buffers, see {@link dev.ckpt.tools.ops.kernel.DeltaRecipe}); copied
 * tensors are copied file to file by the kernel. Nothing is memory-mapped, and memory does not grow
 * with the model.
 */
public final class ApplyDelta {
    private ApplyDelta() {
    }

    /**
     * @param base   the base model (directory or file), e.g. LLaMA-1 7B in HF format
     * @param delta  the delta weights
     * @param out    the output directory (must not exist unless {@code write.force()})
     * @param strict FastChat semantics: identical tensor names and shapes, no vocab growth
     * @param dryRun plan and check only
     * @param write  shard size, force, threads
     */
    public record Options(Path base, Path delta, Path out, boolean strict, boolean dryRun, WriteOptions write) {
        public Options {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(delta, "delta");
            Objects.requireNonNull(write, "write");
            if (out == null && !dryRun) {
                throw new IllegalArgumentException("an output directory is required unless dryRun");
            }
        }
    }


    /**
     * Plans {@code base + delta} without reading tensor bytes; see {@link DeltaPlanner}. The recipes
     * read through {@code baseReader} and {@code deltaReader} (over the same checkpoints), which must
     * stay open until the plan is written.
     */
    public static OutputPlan plan(Checkpoint base, TensorRangeReader baseReader, Checkpoint delta,
                                  TensorRangeReader deltaReader, boolean strict) {
        return DeltaPlanner.plan(base, baseReader, delta, deltaReader, DeltaPlanner.Direction.APPLY, strict);
    }

    /**
     * Opens both inputs, plans, and writes the target unless {@code dryRun}.
     *
     * @throws dev.ckpt.tools.ops.plan.PlanException when the checks fail (nothing written)
     */
    public static PlanReport run(Options o, ProgressListener listener) throws IOException {
        try (Checkpoint base = Checkpoint.open(o.base()); Checkpoint delta = Checkpoint.open(o.delta());
             TensorRangeReader baseReader = new TensorRangeReader(base);
             TensorRangeReader deltaReader = new TensorRangeReader(delta)) {
            OutputPlan plan = plan(base, baseReader, delta, deltaReader, o.strict());
            return new PlanReport(plan, PlanExecution.execute(plan, o.out(), List.of(o.base(), o.delta()), o.dryRun(),
                    o.write(), listener));
        }
    }
}

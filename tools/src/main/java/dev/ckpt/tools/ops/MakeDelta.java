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
 * {@code delta = target - base}, the reverse of {@link ApplyDelta} with the same vocab rules
 * (LLaVA's {@code make_delta.py}): rows of {@code embed_tokens}/{@code lm_head} past the base and
 * target-only projector tensors are stored as absolute values. f32 arithmetic, one RNE rounding
 * into the target's dtype. {@code apply(make(t))} equals {@code t} exactly for the copied parts;
 * elsewhere each element is {@code round(round(t - b) + b)}, which can differ from {@code t} by an
 * ulp in fp16/bf16 (see docs/make-delta.md).
 */
public final class MakeDelta {
    private MakeDelta() {
    }

    /**
     * @param base   the base model the delta will be applied to
     * @param target the fine-tuned model to publish as a delta
     * @param out    output directory
     * @param strict identical names and shapes (FastChat's make_delta)
     * @param dryRun plan and check only
     * @param write  shard size, force, threads
     */
    public record Options(Path base, Path target, Path out, boolean strict, boolean dryRun, WriteOptions write) {
        public Options {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(write, "write");
            if (out == null && !dryRun) {
                throw new IllegalArgumentException("an output directory is required unless dryRun");
            }
        }
    }


    /**
     * Plans {@code target - base} without reading tensor bytes; see {@link DeltaPlanner}. The recipes
     * read through {@code baseReader} and {@code targetReader} (over the same checkpoints), which must
     * stay open until the plan is written.
     */
    public static OutputPlan plan(Checkpoint base, TensorRangeReader baseReader, Checkpoint target,
                                  TensorRangeReader targetReader, boolean strict) {
        return DeltaPlanner.plan(base, baseReader, target, targetReader, DeltaPlanner.Direction.MAKE, strict);
    }

    /**
     * Opens both inputs, plans, and writes the delta unless {@code dryRun}.
     *
     * @throws dev.ckpt.tools.ops.plan.PlanException when the checks fail (nothing written)
     */
    public static PlanReport run(Options o, ProgressListener listener) throws IOException {
        try (Checkpoint base = Checkpoint.open(o.base()); Checkpoint target = Checkpoint.open(o.target());
             TensorRangeReader baseReader = new TensorRangeReader(base);
             TensorRangeReader targetReader = new TensorRangeReader(target)) {
            OutputPlan plan = plan(base, baseReader, target, targetReader, o.strict());
            return new PlanReport(plan, PlanExecution.execute(plan, o.out(), List.of(o.base(), o.target()), o.dryRun(),
                    o.write(), listener));
        }
    }
}

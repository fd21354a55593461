package dev.ckpt.tools.ops.plan;

import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Executes an {@link OutputPlan} through {@link CheckpointWriter}, after the checks every operation shares. */
public final class PlanExecution {
    private PlanExecution() {
    }

    /**
     * Refuses a plan with errors, refuses an output that is one of the inputs (or contains or lies
     * inside one), then writes unless {@code dryRun} ({@code out} may then be null).
     *
     * @return the write report, or empty for a dry run
     * @throws PlanException when the plan has errors (nothing is written)
     */
    public static Optional<WriteReport> execute(OutputPlan plan, Path out, List<Path> inputs, boolean dryRun,
                                                WriteOptions options, ProgressListener listener) throws IOException {
        plan.requireNoErrors();
        if (dryRun || out == null) {
            return Optional.empty();
        }
        Path o = out.toAbsolutePath().normalize();
        for (Path in : inputs) {
            Path i = in.toAbsolutePath().normalize();
            if (o.startsWith(i) || i.startsWith(o)) {
                throw new PlanException(List.of(new Diagnostic(Diagnostic.Severity.ERROR,
                        "--out " + out + " overlaps the input " + in + "; write the result to a new directory")));
            }
        }
        return Optional.of(CheckpointWriter.write(o, plan.tensors(), plan.sideFiles(), options, listener));
    }
}

package dev.ckpt.tools.ops.plan;

import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.PlannedTensor;
import java.util.List;

/**
 * Everything an operation will write, decided without reading tensor bytes: the output tensors
 * in order with their recipes, the side files, a per-tensor account of what changes, and the
 * findings of the checks. Recipes read from the checkpoints the plan was made from, so those must
 * stay open until the plan is executed.
 */
public record OutputPlan(List<PlannedTensor> tensors, List<SideFile> sideFiles, List<TensorChange> changes,
                         List<Diagnostic> diagnostics) {
    public OutputPlan {
        tensors = List.copyOf(tensors);
        sideFiles = List.copyOf(sideFiles);
        changes = List.copyOf(changes);
        diagnostics = List.copyOf(diagnostics);
    }

    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(d -> d.severity() == Diagnostic.Severity.ERROR);
    }

    /** The findings of severity ERROR, in order. */
    public List<Diagnostic> errors() {
        return diagnostics.stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR).toList();
    }

    /** Total bytes of the output tensors. */
    public long tensorBytes() {
        long n = 0;
        for (PlannedTensor t : tensors) {
            n = Math.addExact(n, t.info().byteSize());
        }
        return n;
    }

    /**
     * Throws when the plan has errors, before anything is written.
     *
     * @throws PlanException carrying every finding
     */
    public void requireNoErrors() throws PlanException {
        if (hasErrors()) {
            throw new PlanException(diagnostics);
        }
    }
}

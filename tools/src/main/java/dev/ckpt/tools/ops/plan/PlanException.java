package dev.ckpt.tools.ops.plan;

import dev.ckpt.formats.FormatException;
import java.util.List;

/**
 * The inputs of an operation do not fit together (wrong base, missing tensors, shape mismatch...).
 * Raised after planning and before anything is written; the CLI maps it to exit code 3. The
 * message is the first error plus a count; {@link #diagnostics()} has them all.
 */
public final class PlanException extends FormatException {
    private static final long serialVersionUID = 1L;
    private final transient List<Diagnostic> diagnostics;

    public PlanException(List<Diagnostic> diagnostics) {
        super(null, Kind.MISMATCH, summary(diagnostics));
        this.diagnostics = List.copyOf(diagnostics);
    }

    /** Every finding of the plan, errors and others, in order. */
    public List<Diagnostic> diagnostics() {
        return diagnostics;
    }

    private static String summary(List<Diagnostic> diagnostics) {
        List<Diagnostic> errors = diagnostics.stream()
                .filter(d -> d.severity() == Diagnostic.Severity.ERROR).toList();
        if (errors.isEmpty()) {
            return "plan has no errors";
        }
        String first = errors.getFirst().message();
        return errors.size() == 1 ? first + "; nothing was written"
                : first + " (and " + (errors.size() - 1) + " more problems); nothing was written";
    }
}

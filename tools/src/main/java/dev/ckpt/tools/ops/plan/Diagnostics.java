package dev.ckpt.tools.ops.plan;

import java.util.ArrayList;
import java.util.List;

/** Collects the findings of one planning pass, in the order they were found. Not thread-safe. */
public final class Diagnostics {
    private final List<Diagnostic> all = new ArrayList<>();

    public void error(String message) {
        all.add(new Diagnostic(Diagnostic.Severity.ERROR, message));
    }

    public void warning(String message) {
        all.add(new Diagnostic(Diagnostic.Severity.WARNING, message));
    }

    public void note(String message) {
        all.add(new Diagnostic(Diagnostic.Severity.NOTE, message));
    }

    public boolean hasErrors() {
        return all.stream().anyMatch(d -> d.severity() == Diagnostic.Severity.ERROR);
    }

    /** Number of errors so far. */
    public long errorCount() {
        return all.stream().filter(d -> d.severity() == Diagnostic.Severity.ERROR).count();
    }

    /** An immutable snapshot. */
    public List<Diagnostic> list() {
        return List.copyOf(all);
    }
}

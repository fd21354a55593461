package dev.ckpt.tools.ops.plan;

import java.util.Objects;

/**
 * One finding of a plan check, phrased for the user on one line: what is wrong, where, what was
 * expected and what to do.
 */
public record Diagnostic(Severity severity, String message) {
    /** How a finding affects the run. */
    public enum Severity {
        /** The plan cannot be executed; nothing is written. */
        ERROR,
        /** Executed, but the user should look. */
        WARNING,
        /** For information (e.g. vocab rows kept from the delta). */
        NOTE
    }

    public Diagnostic {
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return severity.name().toLowerCase(java.util.Locale.ROOT) + ": " + message;
    }
}

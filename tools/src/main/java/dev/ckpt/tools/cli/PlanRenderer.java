package dev.ckpt.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.UntrustedText;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.tools.ops.ByteSize;
import dev.ckpt.tools.ops.plan.Diagnostic;
import dev.ckpt.tools.ops.plan.OutputPlan;
import dev.ckpt.tools.ops.plan.PlanException;
import dev.ckpt.tools.ops.plan.TensorChange;
import dev.ckpt.verify.SmokeReport;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Prints plans, results and plan failures of apply-delta / make-delta / merge-lora, as text or JSON. */
final class PlanRenderer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Runs an operation. */
    interface Op<R> {
        R run() throws IOException;
    }

    private PlanRenderer() {
    }

    /**
     * Runs {@code op}; on a {@link PlanException} prints every error (text: one {@code ckpt: error:}
     * line each on stderr; JSON: the diagnostics on stdout) and fails with exit code 3.
     */
    static <R> R runChecked(Op<R> op, PrintWriter out, PrintWriter err, boolean json) throws IOException {
        try {
            return op.run();
        } catch (PlanException e) {
            List<Diagnostic> errors = e.diagnostics().stream().filter(x -> x.severity() == Diagnostic.Severity.ERROR).toList();
            if (json) {
                ObjectNode root = JSON.createObjectNode().put("ok", false);
                diagnostics(root.putArray("diagnostics"), e.diagnostics());
                out.println(root.toString());
                out.flush();
            }
            if (errors.size() <= 1) {
                throw e;
            }
            for (Diagnostic d : errors) {
                err.println("ckpt: error: " + UntrustedText.oneLine(d.message(), 2000));
            }
            err.flush();
            throw new CkptException(ExitCodes.BAD_INPUT, errors.size() + " problems found before writing (listed above); nothing was written");
        }
    }

    /** Prints the outcome of a planned operation. */
    static void print(String verb, OutputPlan plan, Optional<WriteReport> written, PrintWriter out, PrintWriter err, boolean json) {
        print(verb, plan, written, Optional.empty(), out, err, json);
    }

    /** Prints the outcome of a planned operation and its {@code --verify} report, if any. */
    static void print(String verb, OutputPlan plan, Optional<WriteReport> written, Optional<SmokeReport> verification,
                      PrintWriter out, PrintWriter err, boolean json) {
        if (json) {
            ObjectNode root = JSON.createObjectNode().put("ok", true).put("dryRun", written.isEmpty())
                    .put("tensors", plan.tensors().size()).put("tensorBytes", plan.tensorBytes());
            written.ifPresent(w -> root.put("out", w.outDir().toString()).put("shards", w.weightFiles().size())
                    .put("seconds", w.elapsed().toNanos() / 1e9));
            ArrayNode changes = root.putArray("changes");
            for (TensorChange c : plan.changes()) {
                changes.addObject().put("tensor", c.tensor()).put("action", c.action()).put("source", c.source());
            }
            diagnostics(root.putArray("diagnostics"), plan.diagnostics());
            VerifyMixin.addTo(root, verification);
            out.println(root.toString());
            out.flush();
            return;
        }
        for (Diagnostic d : plan.diagnostics()) {
            err.println("ckpt: " + UntrustedText.oneLine(d, 2000));
        }
        err.flush();
        if (written.isEmpty()) {
            out.printf(Locale.ROOT, "plan (dry run, nothing written): %d tensors, %s; %d changed:%n", plan.tensors().size(),
                    ByteSize.format(plan.tensorBytes()), plan.changes().size());
            int width = plan.changes().stream().mapToInt(c -> c.action().length()).max().orElse(0);
            for (TensorChange c : plan.changes()) {
                // tensor names and sources come from the input files: one inert line each
                out.printf(Locale.ROOT, "  %-" + width + "s  %s  <- %s%n", c.action(), UntrustedText.oneLine(c.tensor(), 300),
                        UntrustedText.oneLine(c.source(), 300));
            }
        } else {
            WriteReport w = written.get();
            double s = Math.max(1e-9, w.elapsed().toNanos() / 1e9);
            out.printf(Locale.ROOT, "%s %s: %d tensors (%d changed), %s in %d shard(s), %d side files, %.2f s%n", verb,
                    w.outDir(), w.tensorCount(), plan.changes().size(), ByteSize.format(w.tensorBytes()),
                    w.weightFiles().size(), w.sideFiles().size(), s);
        }
        out.flush();
        VerifyMixin.printSummary(verification, out);
    }

    private static void diagnostics(ArrayNode arr, List<Diagnostic> ds) {
        for (Diagnostic d : ds) {
            arr.addObject().put("severity", d.severity().name().toLowerCase(Locale.ROOT)).put("message", d.message());
        }
    }
}

package dev.ckpt.tools.cli;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.tools.source.SourceResolver;
import dev.ckpt.tools.ops.ApplyDelta;
import dev.ckpt.tools.ops.OperationReferences;
import dev.ckpt.verify.SmokeReport;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ckpt apply-delta --base SRC --delta SRC --out DIR}: target = base + delta. */
@Command(name = "apply-delta", mixinStandardHelpOptions = true,
        description = {"Rebuild a model published as delta weights (LLaVA v0/v1.1, Vicuna): target = base + delta.",
            "f32 arithmetic, one rounding into the delta's dtype; embed_tokens/lm_head may grow (extra rows from the delta);",
            "projector tensors only in the delta are copied. Inputs are checked before anything is written."})
public final class ApplyDeltaCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--base", required = true, paramLabel = "SRC", description = "base model: directory, file or hub id org/name[@rev] (e.g. LLaMA-1 7B, HF format)")
    Path base;

    @Option(names = "--delta", required = true, paramLabel = "SRC", description = "delta weights directory or file")
    Path delta;

    @Option(names = "--out", paramLabel = "DIR", description = "output directory (created atomically); required unless --dry-run")
    Path out;

    @Option(names = "--strict", description = "FastChat semantics: identical tensor names and shapes, no vocab growth")
    boolean strict;

    @Mixin
    PlanOutputOptions output;

    @Mixin
    VerifyMixin verify;

    @Override
    public Integer call() throws Exception {
        if (out == null && !output.dryRun) {
            throw new CkptException(ExitCodes.USAGE, "--out DIR is required (or pass --dry-run)");
        }
        if (verify.enabled() && output.dryRun) {
            throw new CkptException(ExitCodes.USAGE, "--verify needs an output to verify; it does not combine with --dry-run");
        }
        base = SourceResolver.fromEnvironment().resolve(base.toString()); // path or org/name[@rev]
        delta = SourceResolver.fromEnvironment().resolve(delta.toString()); // path or org/name[@rev]
        var o = new ApplyDelta.Options(base, delta, out, strict, output.dryRun, output.writeOptions());
        var w = spec.commandLine();
        ProgressListener progress = output.json ? ProgressListener.NONE : TerminalProgress.forStderr("applying delta");
        PlanReport r = PlanRenderer.runChecked(() -> ApplyDelta.run(o, progress), w.getOut(), w.getErr(), output.json);
        Optional<SmokeReport> checked = !verify.enabled() || r.written().isEmpty() ? Optional.empty()
                : verify.run(out, OperationReferences.applyDelta(base, delta), OperationReferences.roundedOnce(out));
        PlanRenderer.print("wrote", r.plan(), r.written(), checked, w.getOut(), w.getErr(), output.json);
        VerifyMixin.requirePassed(checked, out);
        return ExitCodes.OK;
    }
}

package dev.ckpt.tools.cli;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.tools.source.SourceResolver;
import dev.ckpt.tools.ops.MakeDelta;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ckpt make-delta --base SRC --target SRC --out DIR}: delta = target - base. */
@Command(name = "make-delta", mixinStandardHelpOptions = true,
        description = {"Make delta weights to publish a fine-tune: delta = target - base (the reverse of apply-delta).",
            "Rows past the base vocabulary and projector tensors are stored as absolute values."})
public final class MakeDeltaCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--base", required = true, paramLabel = "SRC", description = "base model the delta will be applied to")
    Path base;

    @Option(names = "--target", required = true, paramLabel = "SRC", description = "fine-tuned model")
    Path target;

    @Option(names = "--out", paramLabel = "DIR", description = "output directory (created atomically); required unless --dry-run")
    Path out;

    @Option(names = "--strict", description = "identical tensor names and shapes (FastChat's make_delta)")
    boolean strict;

    @Mixin
    PlanOutputOptions output;

    @Override
    public Integer call() throws Exception {
        if (out == null && !output.dryRun) {
            throw new CkptException(ExitCodes.USAGE, "--out DIR is required (or pass --dry-run)");
        }
        base = SourceResolver.fromEnvironment().resolve(base.toString()); // path or org/name[@rev]
        target = SourceResolver.fromEnvironment().resolve(target.toString()); // path or org/name[@rev]
        var o = new MakeDelta.Options(base, target, out, strict, output.dryRun, output.writeOptions());
        var w = spec.commandLine();
        ProgressListener progress = output.json ? ProgressListener.NONE : TerminalProgress.forStderr("making delta");
        PlanReport r = PlanRenderer.runChecked(() -> MakeDelta.run(o, progress), w.getOut(), w.getErr(), output.json);
        PlanRenderer.print("wrote", r.plan(), r.written(), w.getOut(), w.getErr(), output.json);
        return ExitCodes.OK;
    }
}

package dev.ckpt.tools.cli;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.tools.source.SourceResolver;
import dev.ckpt.tools.ops.MergeLora;
import dev.ckpt.tools.ops.OperationReferences;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.SmokeReport;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ckpt merge-lora --base SRC --lora SRC[:WEIGHT] [--lora ...] --out DIR}. */
@Command(name = "merge-lora", mixinStandardHelpOptions = true,
        description = {"Merge PEFT LoRA adapters (and LLaVA LoRA folders with non_lora_trainables) into their base model.",
            "W' = W + sum(weight * scale * B*A) in f32, one rounding into the base dtype; rsLoRA, DoRA, fan_in_fan_out,",
            "embedding LoRA, modules_to_save. --dry-run lists which base tensors change and by which adapter."})
public final class MergeLoraCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--base", required = true, paramLabel = "SRC", description = "base model: directory, file or hub id org/name[@rev]")
    Path base;

    @Option(names = "--lora", required = true, paramLabel = "SRC[:WEIGHT]",
            description = "adapter folder or hub id, optionally with a weight multiplying its delta (repeatable; applied in order)")
    List<String> loras = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "output directory (created atomically); required unless --dry-run")
    Path out;

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
        List<MergeLora.LoraSource> sources = new ArrayList<>();
        for (String s : loras) {
            try {
                MergeLora.LoraSource src = MergeLora.LoraSource.parse(s);
                sources.add(new MergeLora.LoraSource(SourceResolver.fromEnvironment().resolve(src.dir().toString()), src.weight()));
            } catch (IllegalArgumentException e) {
                throw new CkptException(ExitCodes.USAGE, "--lora " + s + ": " + e.getMessage());
            }
        }
        base = SourceResolver.fromEnvironment().resolve(base.toString()); // path or org/name[@rev]
        Reference reference = null;
        if (verify.enabled()) {
            reference = OperationReferences.mergeLora(base, sources); // described (headers only) before anything is written
        }
        var o = new MergeLora.Options(base, sources, out, output.dryRun, output.writeOptions());
        var w = spec.commandLine();
        ProgressListener progress = output.json ? ProgressListener.NONE : TerminalProgress.forStderr("merging");
        PlanReport r = PlanRenderer.runChecked(() -> MergeLora.run(o, progress), w.getOut(), w.getErr(), output.json);
        Optional<SmokeReport> checked = !verify.enabled() || r.written().isEmpty() ? Optional.empty()
                : verify.run(out, reference, OperationReferences.roundedOnce(out));
        PlanRenderer.print("wrote", r.plan(), r.written(), checked, w.getOut(), w.getErr(), output.json);
        VerifyMixin.requirePassed(checked, out);
        return ExitCodes.OK;
    }
}

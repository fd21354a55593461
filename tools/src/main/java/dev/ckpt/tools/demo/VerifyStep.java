package dev.ckpt.tools.demo;

import dev.ckpt.tools.gguf.GgufSource;
import dev.ckpt.tools.ops.OperationReferences;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Smoke-infers the demo model, then every output earlier steps left in the artifacts, each against
 * the reference its operation claims to equal (CPU): converted / round-tripped / downloaded copies
 * against the model; apply-delta's rebuilt model against model + delta summed in F32; the
 * LoRA-merged model against the model with the adapter applied at run time, unmerged; the Q8_0 GGUF
 * (read back dequantized) against the model with the lossy thresholds.
 */
public final class VerifyStep implements DemoStep {
    /** Artifacts that claim to be the demo model itself (converted or round-tripped). */
    private static final java.util.Set<String> EQUAL_TO_MODEL = java.util.Set.of("f16", "bin", "downloaded");

    /** One output and what it is checked against. */
    private record Target(String artifact, Path output, Reference reference, Verify.Thresholds thresholds, String what) {
    }

    @Override
    public String name() {
        return "verify the model and every output";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        StringBuilder line = new StringBuilder();
        SmokeReport base = check(Verify.Options.of(ctx.model()), "model", Verify.Opener.CHECKPOINT);
        line.append(String.format(Locale.ROOT, "model %s (%d tokens, %.0f tok/s decode)", base.passed() ? "passed" : "FAILED",
                base.generatedIds().size(), base.decodeTokensPerSecond()));
        for (Target t : targets(ctx)) {
            SmokeReport r = check(Verify.Options.of(t.output()).withReference(t.reference(), t.thresholds()), t.artifact(),
                    GgufSource.opener(ctx.model()));
            var c = r.comparison().orElseThrow();
            line.append(String.format(Locale.ROOT, "; %s passed vs %s (max |dlogit| %.2g, top-1 %.2f, KL %.1e)",
                    t.artifact(), t.what(), c.maxAbsLogitDelta(), c.top1Agreement(), c.meanKl()));
        }
        return line.toString();
    }

    /** The artifacts with a reference, in a stable order. */
    static List<Target> targets(DemoContext ctx) throws IOException {
        Map<String, Path> a = ctx.artifacts();
        List<Target> targets = new ArrayList<>();
        for (String name : a.keySet().stream().sorted().toList()) {
            if (EQUAL_TO_MODEL.contains(name)) {
                targets.add(new Target(name, a.get(name), new Reference.Model(ctx.model()), Verify.Thresholds.EXACT, "model"));
            }
        }
        if (a.containsKey("rebuilt") && a.containsKey("delta")) {
            targets.add(new Target("rebuilt", a.get("rebuilt"), OperationReferences.applyDelta(ctx.model(), a.get("delta")),
                    OperationReferences.roundedOnce(a.get("rebuilt")), "model + delta in f32"));
        }
        if (a.containsKey("merged") && a.containsKey("lora")) {
            Reference lora = new Reference.WithLora(ctx.model(), a.get("lora"));
            targets.add(new Target("merged", a.get("merged"), lora, OperationReferences.roundedOnce(a.get("merged")),
                    "model + LoRA at run time"));
        }
        if (a.containsKey("q8_0.gguf")) { // read back dequantized, no temp copy; tokenizer from the model
            targets.add(new Target("q8_0.gguf", a.get("q8_0.gguf"), new Reference.Model(ctx.model()), Verify.Thresholds.LOSSY,
                    "model (unquantized source)"));
        }
        return targets;
    }

    private static SmokeReport check(Verify.Options options, String what, Verify.Opener opener) throws Exception {
        SmokeReport r = Verify.run(options, opener);
        if (!r.passed()) {
            var f = r.firstFailure().orElseThrow();
            throw new IllegalStateException(what + " failed verification: " + f.name() + ": " + f.detail());
        }
        return r;
    }
}

package dev.ckpt.tools.demo;

import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Smoke-infers the demo model, then every output earlier steps left in the artifacts, each against
 * the demo model as its reference (CPU, f32 compute: the outputs must agree within fp16 rounding).
 */
public final class VerifyStep implements DemoStep {
    /** Artifacts that claim to be the demo model itself (converted or round-tripped). */
    private static final java.util.Set<String> EQUAL_TO_MODEL = java.util.Set.of("f16", "bin", "downloaded");

    @Override
    public String name() {
        return "verify the model and every output";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        StringBuilder line = new StringBuilder();
        SmokeReport base = check(Verify.Options.of(ctx.model()), "model");
        line.append(String.format(Locale.ROOT, "model %s (%d tokens, %.0f tok/s decode)", base.passed() ? "passed" : "FAILED",
                base.generatedIds().size(), base.decodeTokensPerSecond()));
        for (var artifact : ctx.artifacts().entrySet()) {
            if (!EQUAL_TO_MODEL.contains(artifact.getKey())) {
                continue; // a delta or a LoRA-merged model is not meant to reproduce the demo model
            }
            Path out = artifact.getValue();
            SmokeReport r = check(Verify.Options.of(out).withReference(ctx.model(), Verify.Thresholds.EXACT), artifact.getKey());
            var c = r.comparison().orElseThrow();
            line.append(String.format(Locale.ROOT, "; %s passed vs model (max |dlogit| %.2g, top-1 %.2f, KL %.1e)",
                    artifact.getKey(), c.maxAbsLogitDelta(), c.top1Agreement(), c.meanKl()));
        }
        return line.toString();
    }

    private static SmokeReport check(Verify.Options options, String what) throws Exception {
        SmokeReport r = Verify.run(options);
        if (!r.passed()) {
            var f = r.firstFailure().orElseThrow();
            throw new IllegalStateException(what + " failed verification: " + f.name() + ": " + f.detail());
        }
        return r;
    }
}

package dev.ckpt.tools.demo;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.synthetic.SyntheticLlava;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.gguf.GgufSource;
import dev.ckpt.tools.gguf.MmprojExport;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The LLaVA part of GGUF export: builds a tiny LLaVA-1.5 ({@link SyntheticLlava}: f16, CLIP tower
 * inside, mlp2x_gelu projector), writes it as llama.cpp's pair with the calls {@code ckpt convert
 * LLAVA_DIR --to gguf --type f16} makes (language GGUF + mmproj GGUF), then smoke-infers the pair as one
 * LLaVA model, image included, against the source the way {@code ckpt verify model.gguf --mmproj
 * model.mmproj.gguf --reference LLAVA_DIR} does. Artifacts: {@code "llava"}, {@code "llava.gguf"},
 * {@code "llava.mmproj.gguf"}.
 */
public final class LlavaGgufStep implements DemoStep {
    /** f16 is what the release checkpoints hold, so the export is lossless and the exact thresholds apply. */
    private static final GgufExport.OutType TYPE = GgufExport.OutType.F16;

    /** What the export wrote: the two files and their tensor counts. */
    record Pair(Path model, int modelTensors, Path mmproj, int mmprojTensors) {
    }

    /** The pair and the tensor count of the checkpoint it came from. */
    record Export(Pair pair, int sourceTensors) {
    }

    @Override
    public String name() {
        return "LLaVA to GGUF f16 + mmproj, verified";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        SyntheticLlava.Options o = SyntheticLlava.Options.tiny();
        Path src = ctx.workDir().resolve("tiny-llava");
        SyntheticLlava.write(src, o);
        Export e = export(src, ctx.workDir().resolve("llava-f16.gguf"), ctx.workDir().resolve("llava-f16.mmproj.gguf"));
        Pair pair = e.pair();
        ctx.artifacts().put("llava", src);
        ctx.artifacts().put("llava.gguf", pair.model());
        ctx.artifacts().put("llava.mmproj.gguf", pair.mmproj());
        SmokeReport r = verify(src, pair, o.patchCount());
        var c = r.comparison().orElseThrow();
        int textTokens = r.promptIds().size() - 1; // the -200 placeholder becomes the patches
        return String.format(Locale.ROOT, "tiny LLaVA-1.5 (f16, %d tensors: CLIP %d blocks inside + mlp2x_gelu projector) -> "
                        + "%s (%d tensors, language model) + %s (%d tensors, CLIP cut at layer -2 + projector); pair vs source, "
                        + "image included: %d image patches + %d text tokens in the prefill, all %d tensors of both files used, "
                        + "top-1 %.2f, max |dlogit| %.2g, KL %.1e over %d positions",
                e.sourceTensors(), o.visionLayers(), pair.model().getFileName(), pair.modelTensors(), pair.mmproj().getFileName(),
                pair.mmprojTensors(), o.patchCount(), textTokens, r.tensorCount(), c.top1Agreement(), c.maxAbsLogitDelta(),
                c.meanKl(), c.positions());
    }

    /**
     * The library calls of {@code convert --to gguf} for a LLaVA source: the mmproj (tower inside the
     * checkpoint) first, then the language model, which leaves the vision tensors out.
     */
    static Export export(Path src, Path model, Path mmproj) throws IOException {
        try (Checkpoint ck = Checkpoint.open(src)) {
            ck.requireNoProblems();
            if (!MmprojExport.isLlava(ck) || !MmprojExport.hasInnerTower(ck)) {
                throw new IllegalStateException(src + " is not a LLaVA checkpoint with its tower inside");
            }
            GgufExport.Plan plan = GgufExport.fromCheckpoint(ck, TYPE, null);
            GgufExport.Plan mmPlan = MmprojExport.plan(ck, null, TYPE);
            GgufExport.write(mmPlan, mmproj, false, 0);
            GgufExport.write(plan, model, false, 0);
            return new Export(new Pair(model, plan.tensors().size(), mmproj, mmPlan.tensors().size()), ck.tensors().size());
        }
    }

    /**
     * {@code verify --mmproj}'s library path: the pair opened as one LLaVA model (its mmproj checked
     * against the source's projector and tower first) and compared with the source on the LLaVA prompt
     * and built-in image, exact thresholds (the {@code verify} default). Beyond the checks of the report,
     * requires that the image went through the pair's tower (its patches in the prefill) and that every
     * tensor of both files was loaded, so a pair silently verified as text-only fails too.
     *
     * @throws IllegalStateException when a check fails
     */
    static SmokeReport verify(Path src, Pair pair, int patches) throws IOException {
        Verify.Options options = Verify.Options.of(pair.model()).withReference(new Reference.Model(src), Verify.Thresholds.EXACT);
        SmokeReport r = Verify.run(options, GgufSource.opener(src, pair.model(), pair.mmproj(), null));
        if (!r.passed()) {
            var f = r.firstFailure().orElseThrow();
            throw new IllegalStateException("GGUF + mmproj pair failed verification: " + f.name() + ": " + f.detail());
        }
        if (!r.architecture().equals("LlavaLlamaForCausalLM") || !r.promptIds().contains(-200)
                || r.prefillTokens() != r.promptIds().size() - 1 + patches) {
            throw new IllegalStateException("the pair ran as " + r.architecture() + " with " + r.prefillTokens()
                    + " prefill tokens for prompt " + r.promptIds() + ": the " + patches + " image patches were not in the prefill");
        }
        if (r.tensorCount() != pair.modelTensors() + pair.mmprojTensors()) {
            throw new IllegalStateException("the pair loaded " + r.tensorCount() + " tensors, the two files hold "
                    + (pair.modelTensors() + pair.mmprojTensors()));
        }
        if (r.comparison().isEmpty()) {
            throw new IllegalStateException("no comparison with " + src);
        }
        return r;
    }
}

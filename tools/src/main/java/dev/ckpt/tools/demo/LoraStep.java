package dev.ckpt.tools.demo;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.internal.AtomicFiles;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.ops.MergeLora;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Synthesizes a small PEFT adapter (r=4, alpha=8, q_proj and v_proj of every layer, f32 factors)
 * for the demo model, merges it, and checks one merged tensor against an f64 evaluation of
 * {@code W + 2·B·A} done here.
 */
public final class LoraStep implements DemoStep {
    private static final int RANK = 4;

    @Override
    public String name() {
        return "synthesize a PEFT LoRA and merge it";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path adapter = writeAdapter(ctx.model(), ctx.workDir().resolve("tiny-lora"));
        Path merged = ctx.workDir().resolve("merged");
        PlanReport r = MergeLora.run(new MergeLora.Options(ctx.model(), List.of(new MergeLora.LoraSource(adapter, 1.0)),
                merged, false, WriteOptions.defaults()), ProgressListener.NONE);
        ctx.artifacts().put("merged", merged);
        ctx.artifacts().put("lora", adapter); // VerifyStep compares merged with model + this adapter at run time
        String q = "model.layers.0.self_attn.q_proj";
        double maxErr;
        try (Checkpoint base = Checkpoint.open(ctx.model()); Checkpoint a = Checkpoint.open(adapter.resolve("adapter_model.safetensors"));
             Checkpoint m = Checkpoint.open(merged)) {
            float[] w = decode(base, q + ".weight");
            float[] la = decode(a, "base_model.model." + q + ".lora_A.weight");
            float[] lb = decode(a, "base_model.model." + q + ".lora_B.weight");
            float[] out = decode(m, q + ".weight");
            int cols = la.length / RANK;
            maxErr = 0;
            for (int i = 0; i < out.length; i++) {
                int o = i / cols;
                int j = i % cols;
                double d = 0;
                for (int k = 0; k < RANK; k++) {
                    d += (double) lb[o * RANK + k] * la[k * cols + j];
                }
                double expected = w[i] + 2.0 * d;
                maxErr = Math.max(maxErr, Math.abs(out[i] - expected) / Math.max(Math.abs(expected), 1e-3));
            }
        }
        if (maxErr > 1.0 / 128) {
            throw new IllegalStateException("merged " + q + " differs from the f64 reference by " + maxErr + " (relative)");
        }
        return String.format(java.util.Locale.ROOT, "%d tensors changed by adapter r=%d; %s matches f64 W + 2*B*A within"
                + " bf16 rounding (max rel. error %.1e)", r.plan().changes().size(), RANK, q, maxErr);
    }

    /** Writes adapter_config.json + adapter_model.safetensors with random factors shaped for {@code model}. */
    public static Path writeAdapter(Path model, Path dir) throws Exception {
        return writeAdapter(model, dir, 0);
    }

    /** {@link #writeAdapter(Path, Path)} with other random factors for each {@code seed}. */
    public static Path writeAdapter(Path model, Path dir, long seed) throws Exception {
        List<PlannedTensor> tensors = new ArrayList<>();
        try (Checkpoint base = Checkpoint.open(model)) {
            for (TensorInfo t : base.tensors()) {
                String n = t.name();
                if (n.endsWith("q_proj.weight") || n.endsWith("v_proj.weight")) {
                    String m = "base_model.model." + n.substring(0, n.length() - ".weight".length());
                    long out = t.shape().dim(0);
                    long in = t.shape().dim(1);
                    tensors.add(random(m + ".lora_A.weight", RANK, in, n.hashCode() + 31 * seed));
                    tensors.add(random(m + ".lora_B.weight", out, RANK, ~n.hashCode() + 31 * seed));
                }
            }
        }
        Path tmp = dir.resolveSibling(dir.getFileName() + ".parts");
        CheckpointWriter.write(tmp, tensors, List.of(), WriteOptions.defaults(), ProgressListener.NONE);
        Files.createDirectories(dir);
        Files.move(tmp.resolve("model.safetensors"), dir.resolve("adapter_model.safetensors"));
        AtomicFiles.deleteQuietly(tmp);
        Files.writeString(dir.resolve("adapter_config.json"), """
                {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 8, "lora_dropout": 0.05,
                 "bias": "none", "fan_in_fan_out": false, "target_modules": ["q_proj", "v_proj"], "use_rslora": false}
                """);
        return dir;
    }

    private static PlannedTensor random(String name, long rows, long cols, long seed) {
        TensorInfo info = new TensorInfo(name, DType.F32, Shape.of(rows, cols));
        return new PlannedTensor(info, SyntheticLlama.uniform(DType.F32, info.elementCount(), seed, 0f, 0.05f));
    }

    private static float[] decode(Checkpoint c, String name) throws java.io.IOException {
        var v = c.view(name);
        float[] out = new float[Math.toIntExact(v.info().elementCount())];
        FloatCodec.decode(v.data(), 0, v.info().dtype(), out, 0, out.length);
        return out;
    }
}

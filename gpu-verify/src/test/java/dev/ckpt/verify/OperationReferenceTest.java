package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operation-specific references: LoRA applied at run time (merge-lora) and base + delta (apply-delta). */
class OperationReferenceTest {
    @TempDir
    Path tmp;

    private final TinyModels.LlamaSpec spec = TinyModels.LlamaSpec.small();

    private static Verify.Options opts(Path model) {
        return new Verify.Options(model, null, "cpu", "f32", null, null, null, null, 4, Verify.Thresholds.EXACT);
    }

    /** Writes a model dir with {@code weights} (F32) and the fixture config/tokenizer. */
    private Path writeModel(String name, Map<String, float[]> weights, Path shapesFrom) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir);
        Files.copy(shapesFrom.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(shapesFrom.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        try (CheckpointSource src = CheckpointSource.open(shapesFrom)) {
            for (var info : src.tensors()) {
                t.put(info.name(), new SafetensorsBytes.Tensor(info.shape().dims(), weights.get(info.name())));
            }
        }
        SafetensorsBytes.write(dir.resolve("model.safetensors"), t, "F32");
        return dir;
    }

    @Test
    void mergedModelMatchesBaseWithAdapterAppliedAtRunTime() throws Exception {
        Path base = tmp.resolve("base");
        Map<String, float[]> w = TinyModels.writeLlama(base, spec);
        int r = 4;
        double alpha = 8;
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":8,"
                + "\"target_modules\":[\"q_proj\",\"v_proj\",\"down_proj\"],\"fan_in_fan_out\":false,\"use_rslora\":false}");
        Map<String, SafetensorsBytes.Tensor> lora = new LinkedHashMap<>();
        Map<String, float[]> merged = new LinkedHashMap<>(w);
        Random rnd = new Random(5);
        int h = spec.hidden();
        int kv = spec.kvHeads() * (h / spec.heads());
        for (int l = 0; l < spec.layers(); l++) {
            for (var target : List.of(new int[] {0, h, h}, new int[] {1, kv, h}, new int[] {2, h, spec.intermediate()})) {
                String module = "model.layers." + l + "." + List.of("self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj").get(target[0]);
                int out = target[1];
                int in = target[2];
                float[] a = gaussian(rnd, r * in, 0.2f);
                float[] b = gaussian(rnd, out * r, 0.2f);
                lora.put("base_model.model." + module + ".lora_A.weight", new SafetensorsBytes.Tensor(new long[] {r, in}, a));
                lora.put("base_model.model." + module + ".lora_B.weight", new SafetensorsBytes.Tensor(new long[] {out, r}, b));
                float[] m = merged.get(module + ".weight").clone();
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        double s = 0;
                        for (int k = 0; k < r; k++) {
                            s += (double) b[o * r + k] * a[k * in + i];
                        }
                        m[o * in + i] = (float) (m[o * in + i] + alpha / r * s);
                    }
                }
                merged.put(module + ".weight", m);
            }
        }
        SafetensorsBytes.write(adapter.resolve("adapter_model.safetensors"), lora, "F32");
        Path mergedDir = writeModel("merged", merged, base);

        SmokeReport ok = Verify.run(opts(mergedDir).withReference(new Reference.WithLora(base, adapter), Verify.Thresholds.EXACT));
        assertThat(ok.passed()).as(ReportFormats.summary(ok)).isTrue();
        assertThat(ok.comparison().orElseThrow().maxAbsLogitDelta()).isLessThan(1e-4);

        SmokeReport unmerged = Verify.run(opts(base).withReference(new Reference.WithLora(base, adapter), Verify.Thresholds.EXACT));
        assertThat(unmerged.passed()).isFalse();
        assertThat(unmerged.comparison().orElseThrow().maxAbsLogitDelta()).isGreaterThan(0.05);
    }

    @Test
    void adapterTensorsThatMatchNoLayerFailTheReference() throws Exception {
        Path base = tmp.resolve("base");
        TinyModels.writeLlama(base, spec);
        Path adapter = Files.createDirectories(tmp.resolve("adapter"));
        Files.writeString(adapter.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":2,\"lora_alpha\":2}");
        Map<String, SafetensorsBytes.Tensor> lora = new LinkedHashMap<>();
        lora.put("base_model.model.model.embed_tokens.lora_embedding_A", new SafetensorsBytes.Tensor(new long[] {2, 4}, new float[8]));
        SafetensorsBytes.write(adapter.resolve("adapter_model.safetensors"), lora, "F32");
        SmokeReport r = Verify.run(opts(base).withReference(new Reference.WithLora(base, adapter), Verify.Thresholds.EXACT));
        assertThat(r.passed()).isFalse();
        assertThat(r.firstFailure().orElseThrow().detail()).contains("adapter-used", "lora_embedding_A");
    }

    @Test
    void targetMatchesBasePlusDeltaInF32() throws Exception {
        Path base = tmp.resolve("base");
        Map<String, float[]> w = TinyModels.writeLlama(base, spec);
        Path targetSrc = tmp.resolve("target-src");
        Map<String, float[]> target = TinyModels.writeLlama(targetSrc, new TinyModels.LlamaSpec(spec.hidden(), spec.intermediate(),
                spec.layers(), spec.heads(), spec.kvHeads(), false, "F32", null, spec.ropeTheta(), 77));
        Map<String, float[]> delta = new LinkedHashMap<>();
        Map<String, float[]> rebuilt = new LinkedHashMap<>();
        for (var e : target.entrySet()) {
            float[] b = w.get(e.getKey());
            float[] d = new float[b.length];
            float[] t = new float[b.length];
            for (int i = 0; i < d.length; i++) {
                d[i] = e.getValue()[i] - b[i];
                t[i] = b[i] + d[i]; // what an f32 apply-delta computes
            }
            delta.put(e.getKey(), d);
            rebuilt.put(e.getKey(), t);
        }
        Path deltaDir = writeModel("delta", delta, base);
        Path applied = writeModel("applied", rebuilt, base);
        SmokeReport ok = Verify.run(opts(applied).withReference(new Reference.WithDelta(base, deltaDir), Verify.Thresholds.EXACT));
        assertThat(ok.passed()).as(ReportFormats.summary(ok)).isTrue();
        assertThat(ok.comparison().orElseThrow().maxAbsLogitDelta()).isZero();
        SmokeReport wrong = Verify.run(opts(base).withReference(new Reference.WithDelta(base, deltaDir), Verify.Thresholds.EXACT));
        assertThat(wrong.passed()).isFalse();
    }

    private static float[] gaussian(Random r, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }
}

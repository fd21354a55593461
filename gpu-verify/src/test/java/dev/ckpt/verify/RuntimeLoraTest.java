package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.verify.RuntimeAdapter.TermKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime LoRA reference for every adapter kind against an independent calculation: the
 * weights merged in plain-Java double precision (PEFT's merge equations, algorithms.md 2.4) and run
 * as a model must give the logits the reference computes at inference time, unmerged.
 */
class RuntimeLoraTest {
    @TempDir
    Path tmp;

    /** One adapter being built: its file's tensors, its terms and its replacements. */
    private record Built(Map<String, SafetensorsBytes.Tensor> file, List<RuntimeAdapter.Term> terms,
                         List<String[]> replaced) {
        Built() {
            this(new LinkedHashMap<>(), new ArrayList<>(), new ArrayList<>());
        }
    }

    private final Random rnd = new Random(11);

    @ParameterizedTest(name = "tied embeddings {0}")
    @ValueSource(booleans = {false, true})
    void doraFanInFanOutEmbeddingModulesToSaveAndTwoAdaptersMatchAnF64Merge(boolean tied) throws Exception {
        TinyModels.LlamaSpec spec = new TinyModels.LlamaSpec(64, 96, 2, 4, 2, tied, "F32", null, 10000, 7);
        Path base = tmp.resolve("base");
        Map<String, float[]> w = TinyModels.writeLlama(base, spec);
        int vocab = TinyModels.vocab().size();
        Map<String, double[]> merged = new LinkedHashMap<>();
        Map<String, double[]> plain = new LinkedHashMap<>(); // the same merge with DoRA's rescaling forgotten
        w.forEach((k, v) -> {
            merged.put(k, toDouble(v));
            plain.put(k, toDouble(v));
        });
        Built a1 = new Built();
        term(a1, merged, plain, TermKind.LINEAR, "model.layers.0.self_attn.q_proj", 64, 64, 4, 2.0, true);
        term(a1, merged, plain, TermKind.TRANSPOSED, "model.layers.1.self_attn.o_proj", 64, 64, 2, 0.5, true);
        term(a1, merged, plain, TermKind.EMBEDDING, "model.embed_tokens", vocab, 64, 3, 1.0, true);
        term(a1, merged, plain, TermKind.LINEAR, "model.layers.0.mlp.down_proj", 64, 96, 4, 1.5, false);
        float[] upProj = gaussian(96 * 64, 0.2f); // modules_to_save: replaces the base tensor
        a1.file().put("base_model.model.model.layers.1.mlp.up_proj.weight", new SafetensorsBytes.Tensor(new long[] {96, 64}, upProj));
        a1.replaced().add(new String[] {"model.layers.1.mlp.up_proj.weight", "base_model.model.model.layers.1.mlp.up_proj.weight"});
        merged.put("model.layers.1.mlp.up_proj.weight", toDouble(upProj));
        plain.put("model.layers.1.mlp.up_proj.weight", toDouble(upProj));
        Built a2 = new Built(); // applied after a1, on top of its DoRA results, at weight 0.5 (in the scale)
        term(a2, merged, plain, TermKind.LINEAR, "model.layers.0.self_attn.q_proj", 64, 64, 2, 0.5 * 4.0, false);
        term(a2, merged, plain, TermKind.TRANSPOSED, "model.layers.1.self_attn.o_proj", 64, 64, 2, 0.5, false);
        term(a2, merged, plain, TermKind.EMBEDDING, "model.embed_tokens", vocab, 64, 2, 0.5 * 2.0, false);

        Reference ref = new Reference.WithLora(base, List.of(adapter("a1", a1, 1.0), adapter("a2", a2, 0.5)));
        Path good = writeModel("merged", merged, base);
        SmokeReport ok = Verify.run(opts(good).withReference(ref, Verify.Thresholds.EXACT));
        assertThat(ok.passed()).as(ReportFormats.summary(ok)).isTrue();
        assertThat(ok.comparison().orElseThrow().maxAbsLogitDelta()).isLessThan(1e-3);

        SmokeReport forgotDora = Verify.run(opts(writeModel("plain", plain, base)).withReference(ref, Verify.Thresholds.EXACT));
        assertThat(forgotDora.passed()).isFalse();
        assertThat(forgotDora.comparison().orElseThrow().maxAbsLogitDelta()).isGreaterThan(0.02);
        SmokeReport unmerged = Verify.run(opts(base).withReference(ref, Verify.Thresholds.EXACT));
        assertThat(unmerged.passed()).isFalse();
    }

    /**
     * Adds a random term to {@code b} and applies it to {@code merged} in f64: {@code V = W + s·ΔW},
     * DoRA {@code W' = m/‖V‖ · V} per row (LINEAR) or per column (TRANSPOSED, EMBEDDING).
     * {@code plain} gets V without the DoRA rescaling.
     */
    private void term(Built b, Map<String, double[]> merged, Map<String, double[]> plain, TermKind kind, String module,
                      int rows, int cols, int r, double scale, boolean dora) {
        boolean t = kind != TermKind.LINEAR;
        float[] a = gaussian(r * (t ? rows : cols), 0.3f);
        float[] bb = gaussian((t ? cols : rows) * r, 0.3f);
        String key = "base_model.model." + module + (kind == TermKind.EMBEDDING ? ".lora_embedding_" : ".lora_");
        String aKey = key + (kind == TermKind.EMBEDDING ? "A" : "A.weight");
        String bKey = key + (kind == TermKind.EMBEDDING ? "B" : "B.weight");
        b.file().put(aKey, new SafetensorsBytes.Tensor(new long[] {r, t ? rows : cols}, a));
        b.file().put(bKey, new SafetensorsBytes.Tensor(new long[] {t ? cols : rows, r}, bb));
        String magKey = null;
        for (Map<String, double[]> target : List.of(merged, plain)) {
            double[] w = target.get(module + ".weight");
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double d = 0;
                    for (int k = 0; k < r; k++) {
                        d += t ? (double) bb[j * r + k] * a[k * rows + i] : (double) bb[i * r + k] * a[k * cols + j];
                    }
                    w[i * cols + j] += scale * d;
                }
            }
            if (dora && target == merged) {
                int n = t ? cols : rows;
                double[] norms = new double[n];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        norms[t ? j : i] += w[i * cols + j] * w[i * cols + j];
                    }
                }
                float[] mag = new float[n];
                for (int x = 0; x < n; x++) {
                    norms[x] = Math.sqrt(norms[x]);
                    mag[x] = (float) (norms[x] * (0.6 + 0.8 * rnd.nextDouble()));
                }
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < cols; j++) {
                        int x = t ? j : i;
                        w[i * cols + j] *= mag[x] / norms[x];
                    }
                }
                magKey = "base_model.model." + module + ".lora_magnitude_vector";
                b.file().put(magKey, new SafetensorsBytes.Tensor(new long[] {n}, mag));
            }
        }
        b.terms().add(new RuntimeAdapter.Term(kind, module, aKey, bKey, magKey, scale));
    }

    private Reference.Adapter adapter(String name, Built b, double weight) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path file = dir.resolve("adapter_model.safetensors");
        SafetensorsBytes.write(file, b.file(), "F32");
        List<RuntimeAdapter.Replacement> reps = b.replaced().stream().map(x -> new RuntimeAdapter.Replacement(x[0], file, x[1])).toList();
        return new Reference.Adapter(dir, weight, new RuntimeAdapter(name, file, b.terms(), reps, null));
    }

    private Path writeModel(String name, Map<String, double[]> weights, Path shapesFrom) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.copy(shapesFrom.resolve("config.json"), dir.resolve("config.json"));
        Files.copy(shapesFrom.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        try (CheckpointSource src = CheckpointSource.open(shapesFrom)) {
            for (var info : src.tensors()) {
                double[] v = weights.get(info.name());
                float[] f = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    f[i] = (float) v[i];
                }
                t.put(info.name(), new SafetensorsBytes.Tensor(info.shape().dims(), f));
            }
        }
        SafetensorsBytes.write(dir.resolve("model.safetensors"), t, "F32");
        return dir;
    }

    private static Verify.Options opts(Path model) {
        return new Verify.Options(model, null, "cpu", "f32", null, null, null, null, 4, Verify.Thresholds.EXACT);
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private float[] gaussian(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        return v;
    }
}

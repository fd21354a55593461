package dev.ckpt.tools.ops;

import dev.ckpt.tools.ops.plan.PlanReport;
import static dev.ckpt.tools.ops.Fixtures.T;
import static dev.ckpt.tools.ops.Fixtures.shape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.plan.Diagnostic;
import dev.ckpt.tools.ops.plan.PlanException;
import dev.ckpt.tools.ops.plan.TensorChange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** merge-lora end to end on files; expected numbers are algorithms.md 2.7 (E1-E9) or worked by hand. */
class MergeLoraTest {
    @TempDir
    Path tmp;

    private static final WriteOptions W = new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 2);
    private static final String Q = "model.layers.0.self_attn.q_proj";
    private static final String P = "base_model.model.";
    private static final float[] E1_W = {1, 2, 3, 4, 5, 6};
    private int adapters;

    private Path base(T... tensors) throws IOException {
        return Fixtures.write(tmp.resolve("base"), null, List.of(tensors));
    }

    private Path adapter(String config, T... tensors) throws IOException {
        return Fixtures.adapter(tmp.resolve("lora" + (++adapters)), config, List.of(tensors), null, null);
    }

    private PlanReport merge(Path base, String... loras) throws IOException {
        List<MergeLora.LoraSource> l = new ArrayList<>();
        for (String s : loras) {
            l.add(MergeLora.LoraSource.parse(s));
        }
        return MergeLora.run(new MergeLora.Options(base, l, tmp.resolve("out"), false, W), ProgressListener.NONE);
    }

    private float[] out(String name) throws IOException {
        return Fixtures.read(tmp.resolve("out"), name);
    }

    private static T a(String module, DType t, long r, long in, float... v) {
        return T.of(P + module + ".lora_A.weight", t, shape(r, in), v);
    }

    private static T b(String module, DType t, long out, long r, float... v) {
        return T.of(P + module + ".lora_B.weight", t, shape(out, r), v);
    }

    @Test
    void e1LinearAndUntouchedTensorsCopiedExactly() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 3), E1_W), T.of("model.norm.weight", DType.BF16, shape(2), 1.5f, -2));
        Path l = adapter("{\"r\":1,\"lora_alpha\":2,\"target_modules\":[\"q_proj\"]}",
                a(Q, DType.F32, 1, 3, 1, 0, -1), b(Q, DType.F32, 2, 1, 2, 3));
        PlanReport r = merge(base, l.toString());
        assertThat(out(Q + ".weight")).containsExactly(5, 2, -1, 10, 5, 0);
        assertThat(Fixtures.bytes(tmp.resolve("out"), "model.norm.weight")).isEqualTo(Fixtures.bytes(base, "model.norm.weight"));
        assertThat(r.plan().changes()).extracting(TensorChange::tensor).containsExactly(Q + ".weight");
    }

    @Test
    void e2ClassicVersusRsLora() throws IOException {
        float[] av = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
        float[] bv = {1, 0, 0, 1, 0, 1, 1, 0};
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 3), E1_W));
        Path classic = adapter("{\"r\":4,\"lora_alpha\":8}", a(Q, DType.F32, 4, 3, av), b(Q, DType.F32, 2, 4, bv));
        Path rs = adapter("{\"r\":4,\"lora_alpha\":8,\"use_rslora\":true}", a(Q, DType.F32, 4, 3, av), b(Q, DType.F32, 2, 4, bv));
        merge(base, classic.toString());
        assertThat(out(Q + ".weight")).containsExactly(5, 4, 5, 4, 7, 8);
        MergeLora.run(new MergeLora.Options(base, List.of(MergeLora.LoraSource.parse(rs.toString())), tmp.resolve("out2"),
                false, W), ProgressListener.NONE);
        assertThat(Fixtures.read(tmp.resolve("out2"), Q + ".weight")).containsExactly(9, 6, 7, 4, 9, 10);
    }

    @Test
    void e3FanInFanOut() throws IOException {
        String m = "transformer.h.0.attn.c_attn";
        Path base = base(T.of(m + ".weight", DType.F32, shape(3, 2), 1, 4, 2, 5, 3, 6));
        Path l = adapter("{\"r\":1,\"lora_alpha\":2,\"fan_in_fan_out\":true}", a(m, DType.F32, 1, 3, 1, 0, -1), b(m, DType.F32, 2, 1, 2, 3));
        merge(base, l.toString());
        assertThat(out(m + ".weight")).containsExactly(5, 10, 2, 5, -1, 0);
    }

    @Test
    void e4EmbeddingLora() throws IOException {
        Path base = base(T.of("model.embed_tokens.weight", DType.F32, shape(3, 2), 1, 1, 2, 2, 3, 3));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1}",
                T.of(P + "model.embed_tokens.lora_embedding_A", DType.F32, shape(1, 3), 1, 2, 3),
                T.of(P + "model.embed_tokens.lora_embedding_B", DType.F32, shape(2, 1), 1, -1));
        merge(base, l.toString());
        assertThat(out("model.embed_tokens.weight")).containsExactly(2, 0, 4, 0, 6, 0);
    }

    @Test
    void e5DoraLinear() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 2), 1, 0, 0, 1));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1,\"use_dora\":true}", a(Q, DType.F32, 1, 2, 1, 1), b(Q, DType.F32, 2, 1, 1, 0),
                T.of(P + Q + ".lora_magnitude_vector", DType.F32, shape(2), 1, 2));
        merge(base, l.toString());
        float[] o = out(Q + ".weight");
        assertThat(o[0]).isCloseTo(0.894427191f, within(1e-6f));
        assertThat(o[1]).isCloseTo(0.447213595f, within(1e-6f));
        assertThat(o[2]).isEqualTo(0f);
        assertThat(o[3]).isEqualTo(2f);
    }

    @Test
    void e6DoraEmbedding() throws IOException {
        Path base = base(T.of("model.embed_tokens.weight", DType.F32, shape(3, 2), 1, 0, 0, 1, 1, 1));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1,\"use_dora\":true}",
                T.of(P + "model.embed_tokens.lora_embedding_A", DType.F32, shape(1, 3), 1, 0, 0),
                T.of(P + "model.embed_tokens.lora_embedding_B", DType.F32, shape(2, 1), 1, 0),
                T.of(P + "model.embed_tokens.lora_magnitude_vector.weight", DType.F32, shape(2), 2, 1));
        merge(base, l.toString());
        float[] o = out("model.embed_tokens.weight");
        float[] e = {1.788854382f, 0, 0, 0.707106781f, 0.894427191f, 0.707106781f};
        for (int i = 0; i < e.length; i++) {
            assertThat(o[i]).as("element %d", i).isCloseTo(e[i], within(1e-6f));
        }
    }

    @Test
    void e7TwoAdaptersAndAdapterWeights() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 3), E1_W));
        Path l1 = adapter("{\"r\":1,\"lora_alpha\":2}", a(Q, DType.F32, 1, 3, 1, 0, -1), b(Q, DType.F32, 2, 1, 2, 3));
        Path l2 = adapter("{\"r\":1,\"lora_alpha\":0.5}", a(Q, DType.F32, 1, 3, 0, 1, 0), b(Q, DType.F32, 2, 1, 1, 1));
        PlanReport r = merge(base, l1.toString(), l2.toString());
        assertThat(out(Q + ".weight")).containsExactly(5, 2.5f, -1, 10, 5.5f, 0);
        assertThat(r.plan().changes()).singleElement().satisfies(c ->
                assertThat(c.source()).contains("adapter 1 (lora1) r=1 scale=2.0").contains("adapter 2 (lora2) r=1 scale=0.5"));
        // E1 at weight 0.5: W + 0.5*[[4,0,-4],[6,0,-6]]
        MergeLora.run(new MergeLora.Options(base, List.of(MergeLora.LoraSource.parse(l1 + ":0.5")), tmp.resolve("half"),
                false, W), ProgressListener.NONE);
        assertThat(Fixtures.read(tmp.resolve("half"), Q + ".weight")).containsExactly(3, 2, 1, 7, 5, 3);
    }

    @Test
    void e8Conv1x1() throws IOException {
        String m = "conv";
        Path base = base(T.of(m + ".weight", DType.F32, shape(2, 2, 1, 1), 0, 0, 0, 0));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1}", T.of(P + m + ".lora_A.weight", DType.F32, shape(1, 2, 1, 1), 1, 2),
                T.of(P + m + ".lora_B.weight", DType.F32, shape(2, 1, 1, 1), 1, 1));
        merge(base, l.toString());
        assertThat(out(m + ".weight")).containsExactly(1, 2, 1, 2);
    }

    @Test
    void e9Fp16AndBf16BasesRoundOnceAndKeepTheirDtype() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F16, shape(2, 1), 1, 1), T.of("k.weight", DType.BF16, shape(2, 1), 1, 1));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1}", a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 2, 1, 0.0005f, 0.0004f),
                a("k", DType.F32, 1, 1, 1), b("k", DType.F32, 2, 1, 0.004f, 0.0039f));
        merge(base, l.toString());
        assertThat(out(Q + ".weight")).containsExactly(1.0009765625f, 1.0f);
        assertThat(out("k.weight")).containsExactly(1.0078125f, 1.0f);
        assertThat(Fixtures.info(tmp.resolve("out"), Q + ".weight").dtype()).isEqualTo(DType.F16);
        assertThat(Fixtures.info(tmp.resolve("out"), "k.weight").dtype()).isEqualTo(DType.BF16);
    }

    @Test
    void rankAndAlphaPatterns() throws IOException {
        String v = "model.layers.0.self_attn.v_proj";
        Path base = base(T.of(Q + ".weight", DType.F32, shape(1, 1), 0), T.of(v + ".weight", DType.F32, shape(1, 1), 0));
        // q: r=2 from rank_pattern, alpha 4 -> s=2, B·A = 1+1 = 2 -> 4; v: r=1, alpha_pattern 3 -> s=3, B·A=1 -> 3
        Path l = adapter("{\"r\":1,\"lora_alpha\":4,\"rank_pattern\":{\"q_proj\":2},\"alpha_pattern\":{\"v_proj\":3}}",
                a(Q, DType.F32, 2, 1, 1, 1), b(Q, DType.F32, 1, 2, 1, 1), a(v, DType.F32, 1, 1, 1), b(v, DType.F32, 1, 1, 1));
        merge(base, l.toString());
        assertThat(out(Q + ".weight")).containsExactly(4);
        assertThat(out(v + ".weight")).containsExactly(3);
    }

    @Test
    void loraBiasAndModulesToSave() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 1), 0, 0), T.of(Q + ".bias", DType.F32, shape(2), 1, 1),
                T.of("lm_head.weight", DType.F16, shape(2, 1), 9, 9));
        Path l = adapter("{\"r\":1,\"lora_alpha\":2,\"modules_to_save\":[\"lm_head\"]}",
                a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 2, 1, 1, 2),
                T.of(P + Q + ".lora_B.bias", DType.F32, shape(2), 0.5f, -1),
                T.of(P + "lm_head.modules_to_save.default.weight", DType.F32, shape(2, 1), 0.25f, -3));
        PlanReport r = merge(base, l.toString());
        assertThat(out(Q + ".bias")).containsExactly(2, -1);
        assertThat(out("lm_head.weight")).containsExactly(0.25f, -3);
        assertThat(Fixtures.info(tmp.resolve("out"), "lm_head.weight").dtype()).isEqualTo(DType.F16);
        assertThat(r.plan().changes()).anyMatch(c -> c.tensor().equals("lm_head.weight") && c.action().equals("replace"));
    }

    @Test
    void llavaLoraFolderRenamesTrainablesAndTakesItsConfig() throws IOException {
        ObjectNode bc = Fixtures.llamaConfig(1, 2, 2, 4096);
        Path base = Fixtures.write(tmp.resolve("base"), bc, List.of(T.of(Q + ".weight", DType.F16, shape(2, 2), 1, 0, 0, 1)));
        ObjectNode lc = Fixtures.llamaConfig(1, 2, 2, 4096);
        lc.put("model_type", "llava").put("mm_vision_tower", "openai/clip-vit-large-patch14-336").put("torch_dtype", "bfloat16");
        lc.putArray("architectures").add("LlavaLlamaForCausalLM");
        Path l = Fixtures.adapter(tmp.resolve("llava-run"), "{\"r\":1,\"lora_alpha\":2}",
                List.of(a(Q, DType.BF16, 1, 2, 1, 1), b(Q, DType.BF16, 2, 1, 1, 0)),
                List.of(T.of("base_model.model.model.mm_projector.0.weight", DType.BF16, shape(2, 2), 0.5f, 1, 1.5f, 2),
                        T.of("base_model.model.model.mm_projector.0.bias", DType.BF16, shape(2), 0.25f, 0.125f)), lc);
        PlanReport r = merge(base, l.toString());
        assertThat(out(Q + ".weight")).containsExactly(3, 2, 0, 1);
        assertThat(out("model.mm_projector.0.weight")).containsExactly(0.5f, 1, 1.5f, 2);
        assertThat(Fixtures.info(tmp.resolve("out"), "model.mm_projector.0.bias").dtype()).isEqualTo(DType.F16);
        var cfg = Fixtures.JSON.readTree(tmp.resolve("out").resolve("config.json").toFile());
        assertThat(cfg.get("mm_vision_tower").asText()).isEqualTo("openai/clip-vit-large-patch14-336");
        assertThat(cfg.get("model_type").asText()).isEqualTo("llava_llama");
        assertThat(cfg.get("torch_dtype").asText()).isEqualTo("float16");
        assertThat(r.plan().changes()).anyMatch(c -> c.tensor().equals("model.mm_projector.0.weight") && c.action().equals("add"));
    }

    /** The LLaVA model zoo layout: adapter_model.bin + non_lora_trainables.bin (torch.save zips). */
    @Test
    void llavaLoraFolderWithBinFiles() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F16, shape(2, 2), 1, 0, 0, 1));
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("llava-v1.5-7b-lora"));
        java.nio.file.Files.writeString(dir.resolve("adapter_config.json"), "{\"r\":1,\"lora_alpha\":2}");
        Fixtures.bin(dir.resolve("adapter_model.bin"), List.of(a(Q, DType.F16, 1, 2, 1, 1), b(Q, DType.F16, 2, 1, 1, 0)));
        Fixtures.bin(dir.resolve("non_lora_trainables.bin"),
                List.of(T.of("base_model.model.model.mm_projector.weight", DType.BF16, shape(2, 2), 0.5f, 1, 1.5f, 2)));
        merge(base, dir.toString());
        assertThat(out(Q + ".weight")).containsExactly(3, 2, 0, 1);
        assertThat(out("model.mm_projector.weight")).containsExactly(0.5f, 1, 1.5f, 2);
    }

    @Test
    void loraFolderConfigOfAnotherModelSizeIsAWrongBase() throws IOException {
        Path base = Fixtures.write(tmp.resolve("base"), Fixtures.llamaConfig(32, 4096, 32000, 4096),
                List.of(T.of(Q + ".weight", DType.F32, shape(1, 1), 0)));
        Path l = Fixtures.adapter(tmp.resolve("llava-13b-lora"), "{\"r\":1,\"lora_alpha\":1}",
                List.of(a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 1, 1, 1)), null, Fixtures.llamaConfig(40, 5120, 32000, 4096));
        assertThatThrownBy(() -> merge(base, l.toString())).isInstanceOf(PlanException.class)
                .hasMessageContaining("num_hidden_layers is 32 in the base (llama, 32 layers, hidden 4096, 7B class")
                .hasMessageContaining("40 in the LoRA folder llava-13b-lora (llama, 40 layers, hidden 5120, 13B class");
    }

    @Test
    void llavaLoraWithoutProjectorIsRefused() throws IOException {
        ObjectNode lc = Fixtures.llamaConfig(1, 2, 2, 4096).put("mm_vision_tower", "openai/clip");
        Path base = base(T.of(Q + ".weight", DType.F16, shape(2, 2), 1, 0, 0, 1));
        Path l = Fixtures.adapter(tmp.resolve("run"), "{\"r\":1,\"lora_alpha\":2}",
                List.of(a(Q, DType.F32, 1, 2, 1, 1), b(Q, DType.F32, 2, 1, 1, 0)), null, lc);
        assertThatThrownBy(() -> merge(base, l.toString())).isInstanceOf(PlanException.class)
                .hasMessageContaining("is a LLaVA LoRA but neither the base nor non_lora_trainables.bin provides");
    }

    @Test
    void keysMatchingNoBaseTensorAndShapeMismatchesAreReportedBeforeWriting() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 3), E1_W));
        String k = "model.layers.0.self_attn.k_proj";
        Path l = adapter("{\"r\":1,\"lora_alpha\":1}", a(Q, DType.F32, 1, 4, 1, 1, 1, 1), b(Q, DType.F32, 2, 1, 1, 1),
                a(k, DType.F32, 1, 3, 1, 1, 1), b(k, DType.F32, 2, 1, 1, 1));
        PlanException e = ApplyDeltaTest.catchPlan(() -> merge(base, l.toString()));
        assertThat(e.diagnostics()).extracting(Diagnostic::message)
                .anyMatch(m -> m.contains("lora_A [1, 4] and lora_B [2, 1], which do not fit " + Q + ".weight [2, 3]"))
                .anyMatch(m -> m.contains("1 adapted module(s) match no base tensor, e.g. " + k));
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void quantizedBaseIsRefused() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.I8, shape(2, 1), 1, 2));
        Path l = adapter("{\"r\":1,\"lora_alpha\":1}", a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 2, 1, 1, 1));
        assertThatThrownBy(() -> merge(base, l.toString())).isInstanceOf(PlanException.class)
                .hasMessageContaining("never merged into quantized weights");
        Path gptq = Fixtures.write(tmp.resolve("gptq"), null, List.of(T.of(Q + ".qweight", DType.I32, shape(1), 0)));
        assertThatThrownBy(() -> merge(gptq, l.toString())).isInstanceOf(PlanException.class)
                .hasMessageContaining("base is quantized (tensor '" + Q + ".qweight')");
    }

    @Test
    void unsupportedAdaptersAndRankMismatch() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(2, 1), 0, 0));
        Path pissa = adapter("{\"r\":1,\"init_lora_weights\":\"pissa\"}", a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 2, 1, 1, 1));
        assertThatThrownBy(() -> merge(base, pissa.toString())).isInstanceOf(PlanException.class).hasMessageContaining("pissa");
        Path wrongRank = adapter("{\"r\":2}", a(Q, DType.F32, 1, 1, 1), b(Q, DType.F32, 2, 1, 1, 1));
        assertThatThrownBy(() -> merge(base, wrongRank.toString())).isInstanceOf(PlanException.class)
                .hasMessageContaining("gives rank 2").hasMessageContaining("has 1 rows");
    }

    @Test
    void folderWithoutAdapterConfigIsNotAnAdapter() throws IOException {
        Path base = base(T.of(Q + ".weight", DType.F32, shape(1, 1), 0));
        Path dir = java.nio.file.Files.createDirectories(tmp.resolve("checkpoint-500"));
        assertThatThrownBy(() -> merge(base, dir.toString())).isInstanceOf(FormatException.class)
                .hasMessageContaining("no adapter_config.json");
    }

    @Test
    void loraSourceWeightSyntax() {
        assertThat(MergeLora.LoraSource.parse("a/b:0.5")).isEqualTo(new MergeLora.LoraSource(Path.of("a/b"), 0.5));
        assertThat(MergeLora.LoraSource.parse("a/b")).isEqualTo(new MergeLora.LoraSource(Path.of("a/b"), 1.0));
        assertThat(MergeLora.LoraSource.parse("c:-1e-1").weight()).isEqualTo(-0.1);
    }
}

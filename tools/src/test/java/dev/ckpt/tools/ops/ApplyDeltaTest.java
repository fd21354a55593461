package dev.ckpt.tools.ops;

import dev.ckpt.tools.ops.plan.PlanReport;
import static dev.ckpt.tools.ops.Fixtures.T;
import static dev.ckpt.tools.ops.Fixtures.shape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.plan.Diagnostic;
import dev.ckpt.tools.ops.plan.PlanException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplyDeltaTest {
    @TempDir
    Path tmp;

    private static final WriteOptions W = new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 1);

    private PlanReport apply(Path base, Path delta, boolean strict) throws IOException {
        return ApplyDelta.run(new ApplyDelta.Options(base, delta, tmp.resolve("out"), strict, false, W), ProgressListener.NONE);
    }

    private Path base(ObjectNode config, T... tensors) throws IOException {
        return Fixtures.write(tmp.resolve("base"), config, List.of(tensors));
    }

    private Path delta(ObjectNode config, T... tensors) throws IOException {
        return Fixtures.write(tmp.resolve("delta"), config, List.of(tensors));
    }

    /** algorithms.md 1.1 worked example: top-left block rule, projector copied verbatim. */
    @Test
    void llavaWorkedExampleVocabGrowthAndProjector() throws IOException {
        Path b = base(Fixtures.llamaConfig(1, 2, 2, 2048),
                T.of("model.embed_tokens.weight", DType.F16, shape(2, 2), 1, 2, 3, 4));
        ObjectNode dc = Fixtures.llamaConfig(1, 2, 3, 2048);
        Path d = delta(dc,
                T.of("model.embed_tokens.weight", DType.F16, shape(3, 2), 0.5f, 0.5f, 1, 1, 7, 8),
                T.of("model.mm_projector.bias", DType.F16, shape(2), 0.1f, 0.2f));
        PlanReport r = apply(b, d, false);
        Path out = tmp.resolve("out");
        assertThat(Fixtures.read(out, "model.embed_tokens.weight")).containsExactly(1.5f, 2.5f, 4, 5, 7, 8);
        assertThat(Fixtures.info(out, "model.embed_tokens.weight").shape().dims()).containsExactly(3, 2);
        assertThat(Fixtures.bytes(out, "model.mm_projector.bias")).isEqualTo(Fixtures.bytes(d, "model.mm_projector.bias"));
        assertThat(r.plan().diagnostics()).anyMatch(x -> x.severity() == Diagnostic.Severity.NOTE
                && x.message().contains("vocab grows from 2"));
        // config comes from the delta
        assertThat(Fixtures.JSON.readTree(out.resolve("config.json").toFile()).get("vocab_size").asInt()).isEqualTo(3);
    }

    /** fp16: f32 add then one RNE rounding (E9 numbers). */
    @Test
    void fp16AdditionRoundsOnceLikePyTorch() throws IOException {
        Path b = base(null, T.of("w", DType.F16, shape(3), 1, 1, 1000));
        Path d = delta(null, T.of("w", DType.F16, shape(3), 0.0005f, 0.0004f, -999f));
        apply(b, d, false);
        assertThat(Fixtures.read(tmp.resolve("out"), "w")).containsExactly(1.0009765625f, 1.0f, 1.0f);
    }

    @Test
    void bf16AdditionRoundsOnce() throws IOException {
        Path b = base(null, T.of("w", DType.BF16, shape(2), 1, 1));
        Path d = delta(null, T.of("w", DType.BF16, shape(2), 0.004f, 0.0039f));
        apply(b, d, false);
        // bf16 step near 1.0 is 2^-7; 0.004 is above half a step, 0.0039 below
        assertThat(Fixtures.read(tmp.resolve("out"), "w")).containsExactly(1.0078125f, 1.0f);
        assertThat(Fixtures.info(tmp.resolve("out"), "w").dtype()).isEqualTo(DType.BF16);
    }

    /** A torch .bin delta on a safetensors base. */
    @Test
    void binDeltaOnSafetensorsBase() throws IOException {
        Path b = base(null, T.of("w", DType.F16, shape(2), 1, 2));
        Path d = tmp.resolve("delta");
        Fixtures.bin(d.resolve("pytorch_model.bin"), List.of(T.of("w", DType.F16, shape(2), 0.5f, -1)));
        apply(b, d, false);
        assertThat(Fixtures.read(tmp.resolve("out"), "w")).containsExactly(1.5f, 1);
    }

    @Test
    void swappedInputsAreDiagnosed() throws IOException {
        Path b = base(null, T.of("model.embed_tokens.weight", DType.F16, shape(3, 2), 1, 2, 3, 4, 5, 6),
                T.of("model.mm_projector.bias", DType.F16, shape(2), 0.1f, 0.2f));
        Path d = delta(null, T.of("model.embed_tokens.weight", DType.F16, shape(2, 2), 1, 2, 3, 4));
        assertThatThrownBy(() -> apply(b, d, false)).isInstanceOf(PlanException.class)
                .hasMessageContaining("swapped");
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    /** A LLaVA v0-style delta config (model_type llava, mm_vision_tower) on a LLaMA base; swapped, the same is refused. */
    @Test
    void llavaDeltaConfigIsKeptAndASwappedLlavaConfigIsDiagnosed() throws IOException {
        ObjectNode llava = Fixtures.llamaConfig(1, 2, 2, 2048).put("model_type", "llava")
                .put("mm_vision_tower", "openai/clip-vit-large-patch14");
        llava.putArray("architectures").add("LlavaLlamaForCausalLM");
        Path b = base(Fixtures.llamaConfig(1, 2, 2, 2048), T.of("w", DType.F16, shape(1), 1));
        Path d = delta(llava, T.of("w", DType.F16, shape(1), 1));
        apply(b, d, false);
        assertThat(Fixtures.JSON.readTree(tmp.resolve("out").resolve("config.json").toFile()).get("model_type").asText())
                .isEqualTo("llava");
        assertThatThrownBy(() -> ApplyDelta.run(new ApplyDelta.Options(d, b, tmp.resolve("out2"), false, false, W),
                ProgressListener.NONE)).isInstanceOf(PlanException.class).hasMessageContaining("its config is LLaVA's")
                .hasMessageContaining("swapped");
    }

    @Test
    void llama2BaseForLlama1DeltaIsDiagnosed() throws IOException {
        Path b = base(Fixtures.llamaConfig(1, 2, 2, 4096), T.of("w", DType.F16, shape(2), 1, 1));
        Path d = delta(Fixtures.llamaConfig(1, 2, 2, 2048), T.of("w", DType.F16, shape(2), 1, 1));
        assertThatThrownBy(() -> apply(b, d, false)).isInstanceOf(PlanException.class)
                .hasMessageContaining("max_position_embeddings is 4096 in the base")
                .hasMessageContaining("LLaMA-1");
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void wrongModelSizeIsDiagnosedFromConfigAndShapes() throws IOException {
        Path b = base(Fixtures.llamaConfig(2, 4, 2, 2048), T.of("w", DType.F16, shape(4), 1, 1, 1, 1));
        Path d = delta(Fixtures.llamaConfig(1, 2, 2, 2048), T.of("w", DType.F16, shape(2), 1, 1));
        PlanException e = catchPlan(() -> apply(b, d, false));
        assertThat(e.diagnostics()).extracting(Diagnostic::message)
                .anyMatch(m -> m.contains("num_hidden_layers is 2 in the base"))
                .anyMatch(m -> m.contains("hidden_size is 4 in the base"))
                .anyMatch(m -> m.contains("shape mismatch") && m.contains("w base [4] vs delta [2]"));
    }

    @Test
    void missingAndUnexpectedTensorsAreListed() throws IOException {
        Path b = base(null, T.of("a", DType.F16, shape(1), 1), T.of("b", DType.F16, shape(1), 1),
                T.of("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, shape(1), 1));
        Path d = delta(null, T.of("a", DType.F16, shape(1), 1), T.of("extra", DType.F16, shape(1), 1));
        PlanException e = catchPlan(() -> apply(b, d, false));
        assertThat(e.diagnostics()).extracting(Diagnostic::message)
                .anyMatch(m -> m.contains("1 tensor(s) of the delta are not in the base") && m.contains("extra"))
                .anyMatch(m -> m.contains("1 base tensor(s) are missing from the delta: b ("));
    }

    @Test
    void strictModeRefusesVocabGrowthAndDeltaOnlyTensors() throws IOException {
        Path b = base(null, T.of("lm_head.weight", DType.F16, shape(1, 2), 1, 2));
        Path d = delta(null, T.of("lm_head.weight", DType.F16, shape(2, 2), 1, 2, 3, 4),
                T.of("model.mm_projector.weight", DType.F16, shape(1, 1), 1));
        PlanException e = catchPlan(() -> apply(b, d, true));
        assertThat(e.diagnostics()).extracting(Diagnostic::message)
                .anyMatch(m -> m.contains("strict mode allows no vocab growth"))
                .anyMatch(m -> m.contains("strict mode needs identical names"));
        // without --strict the same inputs are fine
        apply(b, d, false);
        assertThat(Fixtures.read(tmp.resolve("out"), "lm_head.weight")).containsExactly(2, 4, 3, 4);
    }

    @Test
    void quantizedBaseIsRefused() throws IOException {
        ObjectNode c = Fixtures.llamaConfig(1, 2, 2, 2048);
        c.putObject("quantization_config").put("quant_method", "gptq");
        Path b = base(c, T.of("w", DType.F16, shape(1), 1));
        Path d = delta(Fixtures.llamaConfig(1, 2, 2, 2048), T.of("w", DType.F16, shape(1), 1));
        assertThatThrownBy(() -> apply(b, d, false)).isInstanceOf(PlanException.class)
                .hasMessageContaining("base is quantized (quantization_config: gptq)");
    }

    @Test
    void rotaryBuffersAreCopiedFromTheBaseNotAdded() throws IOException {
        String n = "model.layers.0.self_attn.rotary_emb.inv_freq";
        Path b = base(null, T.of(n, DType.F32, shape(2), 1, 0.01f));
        Path d = delta(null, T.of(n, DType.F32, shape(2), 1, 0.01f));
        apply(b, d, false);
        assertThat(Fixtures.read(tmp.resolve("out"), n)).containsExactly(1, 0.01f);
    }

    @Test
    void tokenizerMismatchIsDiagnosed() throws IOException {
        Path b = Fixtures.write(tmp.resolve("base"), null, List.of(T.of("w", DType.F16, shape(1), 1)),
                tokenizer("<unk>", "<s>", "</s>", "hello"));
        Path d = Fixtures.write(tmp.resolve("delta"), null, List.of(T.of("w", DType.F16, shape(1), 1)),
                tokenizer("<unk>", "<s>", "</s>", "bonjour", "<im_patch>"));
        assertThatThrownBy(() -> apply(b, d, false)).isInstanceOf(PlanException.class)
                .hasMessageContaining("token id 3 is 'hello' in the base but 'bonjour' in the delta");
    }

    @Test
    void outputInsideAnInputIsRefused() throws IOException {
        Path b = base(null, T.of("w", DType.F16, shape(1), 1));
        Path d = delta(null, T.of("w", DType.F16, shape(1), 1));
        assertThatThrownBy(() -> ApplyDelta.run(new ApplyDelta.Options(b, d, b.resolve("sub"), false, false, W),
                ProgressListener.NONE)).isInstanceOf(PlanException.class).hasMessageContaining("overlaps the input");
    }

    @Test
    void dryRunWritesNothing() throws IOException {
        Path b = base(null, T.of("w", DType.F16, shape(1), 1));
        Path d = delta(null, T.of("w", DType.F16, shape(1), 1));
        PlanReport r = ApplyDelta.run(new ApplyDelta.Options(b, d, tmp.resolve("out"), false, true, W),
                ProgressListener.NONE);
        assertThat(r.written()).isEmpty();
        assertThat(r.plan().changes()).singleElement().satisfies(c -> assertThat(c.action()).isEqualTo("add"));
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    static SideFile tokenizer(String... tokens) {
        ObjectNode root = Fixtures.JSON.createObjectNode();
        ObjectNode vocab = root.putObject("model").put("type", "BPE").putObject("vocab");
        for (int i = 0; i < tokens.length; i++) {
            vocab.put(tokens[i], i);
        }
        root.putArray("added_tokens");
        return SideFile.Bytes.utf8("tokenizer.json", root.toString());
    }

    interface Io {
        void run() throws IOException;
    }

    static PlanException catchPlan(Io body) throws IOException {
        try {
            body.run();
        } catch (PlanException e) {
            return e;
        }
        throw new AssertionError("expected a PlanException");
    }

    static List<String> messages(List<Diagnostic> ds) {
        List<String> out = new ArrayList<>();
        ds.forEach(x -> out.add(x.message()));
        return out;
    }
}

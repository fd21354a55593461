package dev.ckpt.tools.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.tools.ops.Fixtures;
import dev.ckpt.tools.ops.Fixtures.T;
import dev.ckpt.verify.RuntimeAdapter;
import dev.ckpt.verify.RuntimeAdapter.TermKind;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What merge-lora's key mapping hands the verifier for run-time application. */
class RuntimeAdaptersTest {
    @TempDir
    Path tmp;

    private Path base() throws Exception {
        return Fixtures.write(tmp.resolve("base"), Fixtures.llamaConfig(1, 4, 6, 16), List.of(
                T.of("model.embed_tokens.weight", DType.F16, Fixtures.shape(6, 4), new float[24]),
                T.of("model.layers.0.self_attn.q_proj.weight", DType.F16, Fixtures.shape(4, 4), new float[16]),
                T.of("lm_head.weight", DType.F16, Fixtures.shape(6, 4), new float[24])));
    }

    private Path adapter() throws Exception {
        String q = "base_model.model.model.layers.0.self_attn.q_proj";
        return Fixtures.adapter(tmp.resolve("lora"), """
                        {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "use_rslora": true, "use_dora": true, "fan_in_fan_out": true,
                         "target_modules": ["q_proj", "embed_tokens"], "modules_to_save": ["lm_head"]}""",
                List.of(T.of(q + ".lora_A.weight", DType.F32, Fixtures.shape(2, 4), new float[8]),
                        T.of(q + ".lora_B.weight", DType.F32, Fixtures.shape(4, 2), new float[8]),
                        T.of(q + ".lora_magnitude_vector", DType.F32, Fixtures.shape(4), new float[4]),
                        T.of("base_model.model.model.embed_tokens.lora_embedding_A", DType.F32, Fixtures.shape(2, 6), new float[12]),
                        T.of("base_model.model.model.embed_tokens.lora_embedding_B", DType.F32, Fixtures.shape(4, 2), new float[8]),
                        T.of("base_model.model.model.embed_tokens.lora_magnitude_vector", DType.F32, Fixtures.shape(4), new float[4]),
                        T.of("base_model.model.lm_head.weight", DType.F32, Fixtures.shape(6, 4), new float[24])),
                List.of(T.of("base_model.model.model.mm_projector.0.weight", DType.F32, Fixtures.shape(4, 3), new float[12])),
                Fixtures.llamaConfig(1, 4, 6, 16).put("mm_vision_tower", "clip"));
    }

    @Test
    void describesTermsReplacementsAndConfigWithMergeLorasMapping() throws Exception {
        Path lora = adapter();
        try (Checkpoint b = Checkpoint.open(base()); LoraAdapter a = LoraAdapter.open(lora, 1, 1.0)) {
            RuntimeAdapter r = RuntimeAdapters.describe(b, List.of(a)).getFirst();
            String q = "base_model.model.model.layers.0.self_attn.q_proj";
            float s = (float) (4 / Math.sqrt(2)); // rsLoRA
            assertThat(r.terms()).containsExactlyInAnyOrder(
                    new RuntimeAdapter.Term(TermKind.TRANSPOSED, "model.layers.0.self_attn.q_proj", q + ".lora_A.weight",
                            q + ".lora_B.weight", q + ".lora_magnitude_vector", s),
                    new RuntimeAdapter.Term(TermKind.EMBEDDING, "model.embed_tokens", "base_model.model.model.embed_tokens.lora_embedding_A",
                            "base_model.model.model.embed_tokens.lora_embedding_B",
                            "base_model.model.model.embed_tokens.lora_magnitude_vector", s));
            assertThat(r.weights()).isEqualTo(lora.resolve("adapter_model.safetensors").toAbsolutePath());
            assertThat(r.replacements()).containsExactlyInAnyOrder(
                    new RuntimeAdapter.Replacement("lm_head.weight", r.weights(), "base_model.model.lm_head.weight"),
                    new RuntimeAdapter.Replacement("model.mm_projector.0.weight",
                            lora.resolve("non_lora_trainables.safetensors").toAbsolutePath(), "base_model.model.model.mm_projector.0.weight"));
            assertThat(r.modelConfig().get("mm_vision_tower").asText()).isEqualTo("clip");
        }
    }

    @Test
    void whatTheMergeRefusesStopsTheDescriptionWithOneLine() throws Exception {
        Path lora = adapter();
        try (Checkpoint b = Checkpoint.open(base()); LoraAdapter a = LoraAdapter.open(lora, 1, 2.0)) {
            assertThatThrownBy(() -> RuntimeAdapters.describe(b, List.of(a))).isInstanceOf(FormatException.class)
                    .hasMessageContaining("weight other than 1 is not defined for DoRA").hasMessageNotContaining("\n");
        }
    }
}

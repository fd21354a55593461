package dev.ckpt.formats.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticLlavaTest {
    @TempDir
    Path tmp;

    @Test
    void tinyLlavaHasTheReleaseLayoutWithItsTowerInside() throws Exception {
        SyntheticLlava.Options o = SyntheticLlava.Options.tiny();
        SyntheticLlava.write(tmp.resolve("a"), o);
        try (Checkpoint c = Checkpoint.open(tmp.resolve("a"))) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.weightFiles()).hasSize(2);
            // 21 language tensors, 4 projector tensors, 7 tower stem tensors + 16 per block
            assertThat(c.tensors()).hasSize(21 + 4 + 7 + 16 * o.visionLayers());
            assertThat(c.tensors()).extracting(TensorInfo::dtype).containsOnly(DType.F16);
            String t = SyntheticLlava.TOWER_PREFIX;
            assertThat(c.tensor(t + "embeddings.patch_embedding.weight").orElseThrow().shape().dims()).containsExactly(128, 3, 4, 4);
            assertThat(c.tensor(t + "embeddings.position_embedding.weight").orElseThrow().shape().dims()).containsExactly(17, 128);
            assertThat(c.tensor(t + "encoder.layers.2.mlp.fc1.weight").orElseThrow().shape().dims()).containsExactly(256, 128);
            assertThat(c.tensor("model.mm_projector.0.weight").orElseThrow().shape().dims()).containsExactly(64, 128);
            assertThat(c.tensor("model.mm_projector.2.bias").orElseThrow().shape().dims()).containsExactly(64);
            var cfg = c.config().orElseThrow();
            assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("LlavaLlamaForCausalLM");
            assertThat(cfg.get("mm_projector_type").asText()).isEqualTo("mlp2x_gelu");
            assertThat(cfg.get("mm_hidden_size").asInt()).isEqualTo(128);
            assertThat(cfg.get("mm_vision_select_layer").asInt()).isEqualTo(-2);
            assertThat(cfg.has("vision_config")).isFalse();
            assertThat(cfg.get("torch_dtype").asText()).isEqualTo("float16");
            assertThat(c.json("tokenizer.json")).isPresent();
        }
        SyntheticLlava.write(tmp.resolve("b"), o); // deterministic
        for (String f : new String[] {"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}) {
            assertThat(Files.mismatch(tmp.resolve("a").resolve(f), tmp.resolve("b").resolve(f))).as(f).isEqualTo(-1);
        }
    }

    @Test
    void towerWidthMustGiveSixtyFourWideHeads() {
        assertThatThrownBy(() -> new SyntheticLlava.Options(SyntheticLlama.Options.tiny(), 96, 128, 3, 4, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 64");
    }
}

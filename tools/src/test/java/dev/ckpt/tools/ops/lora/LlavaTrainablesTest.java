package dev.ckpt.tools.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** algorithms.md 2.2 and E10. */
class LlavaTrainablesTest {
    @Test
    void peftSavedKeysLoseBothPrefixes() {
        Map<String, String> r = LlavaTrainables.rename(List.of(
                "base_model.model.model.mm_projector.0.weight", "base_model.model.model.mm_projector.0.bias",
                "base_model.model.model.mm_projector.2.weight", "base_model.model.model.mm_projector.2.bias",
                "base_model.model.model.embed_tokens.weight", "base_model.model.lm_head.weight"));
        assertThat(r.values()).containsExactly("model.mm_projector.0.weight", "model.mm_projector.0.bias",
                "model.mm_projector.2.weight", "model.mm_projector.2.bias", "model.embed_tokens.weight", "lm_head.weight");
    }

    @Test
    void e10ProjectorBias() {
        assertThat(LlavaTrainables.rename(List.of("base_model.model.model.mm_projector.2.bias")))
                .containsEntry("base_model.model.model.mm_projector.2.bias", "model.mm_projector.2.bias");
    }

    @Test
    void withoutNestedModelPrefixOnlyBaseModelIsDropped() {
        assertThat(LlavaTrainables.rename(List.of("model.mm_projector.weight", "model.mm_projector.bias")).values())
                .containsExactly("model.mm_projector.weight", "model.mm_projector.bias");
    }

    @Test
    void ruleTwoIsGlobalAsInLlava() {
        // a mixed file is mangled exactly as LLaVA mangles it: model.norm.weight -> norm.weight
        assertThat(LlavaTrainables.rename(List.of("base_model.model.model.mm_projector.weight", "model.norm.weight")).values())
                .containsExactly("model.mm_projector.weight", "norm.weight");
    }
}

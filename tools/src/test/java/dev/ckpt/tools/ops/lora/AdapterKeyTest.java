package dev.ckpt.tools.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.tools.ops.lora.AdapterKey.Role;
import org.junit.jupiter.api.Test;

class AdapterKeyTest {
    private static void check(String key, String module, Role role) {
        AdapterKey k = AdapterKey.parse(key);
        assertThat(k.module()).as(key).isEqualTo(module);
        assertThat(k.role()).as(key).isEqualTo(role);
    }

    @Test
    void peftKeys() {
        check("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj", Role.LORA_A);
        check("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "model.layers.0.self_attn.q_proj", Role.LORA_B);
        check("base_model.model.model.layers.0.mlp.up_proj.lora_B.bias", "model.layers.0.mlp.up_proj", Role.LORA_B_BIAS);
        check("base_model.model.model.embed_tokens.lora_embedding_A", "model.embed_tokens", Role.EMBEDDING_A);
        check("base_model.model.model.embed_tokens.lora_embedding_B", "model.embed_tokens", Role.EMBEDDING_B);
        check("base_model.model.model.layers.3.self_attn.v_proj.lora_magnitude_vector", "model.layers.3.self_attn.v_proj", Role.MAGNITUDE);
        check("base_model.model.model.layers.3.self_attn.v_proj.lora_magnitude_vector.weight", "model.layers.3.self_attn.v_proj", Role.MAGNITUDE);
    }

    @Test
    void strayAdapterNameAndBaseLayerAreRemoved() {
        check("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", "model.layers.0.self_attn.q_proj", Role.LORA_A);
        check("base_model.model.model.embed_tokens.lora_embedding_B.default", "model.embed_tokens", Role.EMBEDDING_B);
        check("base_model.model.model.embed_tokens.base_layer.weight", "model.embed_tokens.weight", Role.FULL);
        check("base_model.model.model.layers.0.mlp.up_proj.base_layer.bias", "model.layers.0.mlp.up_proj.bias", Role.FULL);
    }

    @Test
    void keysWithoutWrapperPrefixAreAccepted() {
        check("model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj", Role.LORA_A);
    }

    @Test
    void modulesToSaveAreFullReplacements() {
        check("base_model.model.lm_head.weight", "lm_head.weight", Role.FULL);
        check("base_model.model.score.modules_to_save.default.weight", "score.weight", Role.FULL);
    }

    @Test
    void otherLoraKindsAreFlagged() {
        check("base_model.model.model.layers.0.self_attn.q_proj.lora_E", "model.layers.0.self_attn.q_proj.lora_E", Role.UNKNOWN_LORA);
    }
}

package dev.ckpt.tools.ops.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.FormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class PeftConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static PeftConfig parse(String json) throws Exception {
        return PeftConfig.parse(Path.of("adapter_config.json"), JSON.readTree(json));
    }

    @Test
    void llavaV15AdapterConfig() throws Exception {
        PeftConfig c = parse("""
                {"peft_type":"LORA","task_type":"CAUSAL_LM","r":128,"lora_alpha":256,"lora_dropout":0.05,
                 "bias":"none","fan_in_fan_out":false,"modules_to_save":null,"inference_mode":true,
                 "target_modules":["q_proj","k_proj","v_proj","o_proj","gate_proj","up_proj","down_proj"],
                 "base_model_name_or_path":"./checkpoints/vicuna-13b-v1.5","some_future_key":{"x":1}}""");
        // E10: r=128, alpha=256 -> s=2 for every projection
        assertThat(c.scaleFor("model.layers.0.self_attn.q_proj", c.rankFor("model.layers.0.self_attn.q_proj"))).isEqualTo(2f);
        assertThat(c.targetModules().matches("model.layers.31.mlp.down_proj")).isTrue();
        assertThat(c.targetModules().matches("model.mm_projector.0")).isFalse();
        assertThat(c.unsupported()).isEmpty();
        assertThat(c.modulesToSave()).isEmpty();
    }

    @Test
    void defaultsWhenFieldsAreMissing() throws Exception {
        PeftConfig c = parse("{}");
        assertThat(c.rank()).isEqualTo(8);
        assertThat(c.alpha()).isEqualTo(8.0);
        assertThat(c.useRslora()).isFalse();
        assertThat(c.useDora()).isFalse();
        assertThat(c.fanInFanOut()).isFalse();
    }

    @Test
    void e2RsLoraScaling() throws Exception {
        assertThat(parse("{\"r\":4,\"lora_alpha\":8}").scaleFor("x", 4)).isEqualTo(2f);
        assertThat(parse("{\"r\":4,\"lora_alpha\":8,\"use_rslora\":true}").scaleFor("x", 4)).isEqualTo(4f);
    }

    @Test
    void rankAndAlphaPatternsFirstMatchingKeyWins() throws Exception {
        PeftConfig c = parse("""
                {"r":8,"lora_alpha":16,
                 "rank_pattern":{"q_proj":4,"layers\\\\.1\\\\..*proj":2},
                 "alpha_pattern":{"v_proj":32}}""");
        assertThat(c.rankFor("model.layers.1.self_attn.q_proj")).isEqualTo(4);
        assertThat(c.rankFor("model.layers.1.self_attn.k_proj")).isEqualTo(2);
        assertThat(c.rankFor("model.layers.0.self_attn.k_proj")).isEqualTo(8);
        // "q_proj" must match a whole trailing component, not a substring
        assertThat(c.rankFor("model.layers.0.self_attn.xq_proj")).isEqualTo(8);
        assertThat(c.alphaFor("model.layers.0.self_attn.v_proj")).isEqualTo(32.0);
        assertThat(c.scaleFor("model.layers.0.self_attn.v_proj", 8)).isEqualTo(4f);
        assertThat(c.scaleFor("model.layers.0.self_attn.o_proj", 8)).isEqualTo(2f);
    }

    @Test
    void targetModulesAsRegexMustMatchWholeName() throws Exception {
        PeftConfig c = parse("{\"target_modules\":\".*layers\\\\.0\\\\..*(q|v)_proj\"}");
        assertThat(c.targetModules().matches("model.layers.0.self_attn.q_proj")).isTrue();
        assertThat(c.targetModules().matches("model.layers.10.self_attn.q_proj")).isFalse();
        assertThat(c.targetModules().matches("model.layers.0.self_attn.k_proj")).isFalse();
    }

    @Test
    void unsupportedInitialisationsAreReported() throws Exception {
        assertThat(parse("{\"init_lora_weights\":\"pissa_niter_4\"}").unsupported()).singleElement()
                .asString().contains("pissa");
        assertThat(parse("{\"init_lora_weights\":true,\"layer_replication\":[[0,4]]}").unsupported()).singleElement()
                .asString().contains("layer_replication");
        assertThat(parse("{\"peft_type\":\"IA3\"}").unsupported()).singleElement().asString().contains("IA3");
    }

    @Test
    void badValuesAreFormatErrors() {
        assertThatThrownBy(() -> parse("{\"r\":0}")).isInstanceOf(FormatException.class).hasMessageContaining("r must be");
        assertThatThrownBy(() -> parse("{\"r\":\"8\"}")).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> parse("{\"rank_pattern\":{\"q\":-1}}")).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> parse("[1]")).isInstanceOf(FormatException.class);
    }
}

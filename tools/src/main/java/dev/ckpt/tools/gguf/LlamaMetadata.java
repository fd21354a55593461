package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.verify.LlamaConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code general.*} and {@code llama.*} GGUF keys of a Llama checkpoint from its config.json
 * (llama.cpp's converter, {@code TextModel.set_gguf_parameters} + {@code LlamaModel}), and the
 * reverse: a minimal {@code LlamaForCausalLM} config.json from GGUF keys.
 */
public final class LlamaMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LlamaMetadata() {
    }

    /** Hyper-parameters the export needs. */
    public record Dims(int vocabSize, int hidden, int intermediate, int layers, int heads, int kvHeads, int headDim) {
    }

    /**
     * Reads the dims of a Llama config, validated as verify validates them ({@link LlamaConfig#parse}: positive
     * sizes, heads a multiple of the KV heads, an even head dimension).
     *
     * @throws FormatException when a required key is missing or the values contradict each other
     */
    public static Dims dims(Path file, JsonNode c) throws FormatException {
        LlamaConfig l = LlamaConfig.parse(c, file);
        return new Dims(l.vocabSize(), l.hiddenSize(), l.intermediateSize(), l.layerCount(), l.headCount(), l.kvHeadCount(),
                l.headDim());
    }

    /** True when the config describes a Llama-family causal LM (including LLaVA's language model). */
    public static boolean isLlama(JsonNode c) {
        String type = c.path("model_type").asText("");
        if (type.equals("llama") || type.equals("llava") || type.equals("llava_llama") || type.equals("mistral")) {
            return true;
        }
        for (JsonNode a : c.path("architectures")) {
            String s = a.asText();
            if (s.equals("LlamaForCausalLM") || s.equals("LlavaLlamaForCausalLM") || s.equals("MistralForCausalLM")) {
                return true;
            }
        }
        return false;
    }

    /** {@code general.*} + {@code llama.*} keys, in the converter's order. */
    public static Map<String, GgufValue> keys(String name, JsonNode c, Dims d, int fileType) {
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("general.architecture", GgufValue.of("llama"));
        kv.put("general.type", GgufValue.of("model"));
        kv.put("general.name", GgufValue.of(name));
        kv.put("llama.block_count", GgufValue.u32(d.layers()));
        if (c.has("max_position_embeddings")) {
            kv.put("llama.context_length", GgufValue.u32(c.get("max_position_embeddings").asLong()));
        }
        kv.put("llama.embedding_length", GgufValue.u32(d.hidden()));
        kv.put("llama.feed_forward_length", GgufValue.u32(d.intermediate()));
        kv.put("llama.attention.head_count", GgufValue.u32(d.heads()));
        kv.put("llama.attention.head_count_kv", GgufValue.u32(d.kvHeads()));
        if (c.has("rope_theta")) {
            kv.put("llama.rope.freq_base", new GgufValue.Float32((float) c.get("rope_theta").asDouble()));
        }
        kv.put("llama.attention.layer_norm_rms_epsilon", new GgufValue.Float32((float) c.path("rms_norm_eps").asDouble(1e-6)));
        if (c.has("head_dim") && c.get("head_dim").asInt() != d.hidden() / d.heads()) {
            kv.put("llama.attention.key_length", GgufValue.u32(d.headDim()));
            kv.put("llama.attention.value_length", GgufValue.u32(d.headDim()));
        }
        JsonNode rs = c.path("rope_scaling");
        if (rs.isObject() && "linear".equals(rs.path("type").asText(rs.path("rope_type").asText()))) {
            kv.put("llama.rope.scaling.type", GgufValue.of("linear"));
            kv.put("llama.rope.scaling.factor", new GgufValue.Float32((float) rs.path("factor").asDouble(1)));
        }
        kv.put("general.file_type", GgufValue.u32(fileType));
        kv.put("llama.vocab_size", GgufValue.u32(d.vocabSize()));
        kv.put("llama.rope.dimension_count", GgufValue.u32(d.headDim()));
        return kv;
    }

    /** A {@code LlamaForCausalLM} config.json rebuilt from GGUF keys (for GGUF -> safetensors). */
    public static ObjectNode config(Map<String, GgufValue> kv, int vocabFromTensors, boolean tied) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        long hidden = get(kv, "llama.embedding_length");
        long heads = get(kv, "llama.attention.head_count");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", get(kv, "llama.feed_forward_length"));
        c.put("num_hidden_layers", get(kv, "llama.block_count"));
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kv.containsKey("llama.attention.head_count_kv") ? get(kv, "llama.attention.head_count_kv") : heads);
        if (kv.containsKey("llama.attention.key_length")) {
            c.put("head_dim", get(kv, "llama.attention.key_length"));
        }
        if (kv.containsKey("llama.context_length")) {
            c.put("max_position_embeddings", get(kv, "llama.context_length"));
        }
        GgufValue eps = kv.get("llama.attention.layer_norm_rms_epsilon");
        c.put("rms_norm_eps", eps == null ? 1e-6
                : Double.parseDouble(Float.toString((float) number(eps, "llama.attention.layer_norm_rms_epsilon"))));
        GgufValue theta = kv.get("llama.rope.freq_base");
        c.put("rope_theta", theta == null ? 10000.0
                : Double.parseDouble(Float.toString((float) number(theta, "llama.rope.freq_base"))));
        c.put("vocab_size", vocabFromTensors);
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", tied);
        c.put("torch_dtype", "float32");
        GgufValue bos = kv.get("tokenizer.ggml.bos_token_id");
        GgufValue eos = kv.get("tokenizer.ggml.eos_token_id");
        if (bos != null) {
            c.put("bos_token_id", integer(bos, "tokenizer.ggml.bos_token_id"));
        }
        if (eos != null) {
            c.put("eos_token_id", integer(eos, "tokenizer.ggml.eos_token_id"));
        }
        return c;
    }

    private static long get(Map<String, GgufValue> kv, String key) {
        GgufValue v = kv.get(key);
        if (v == null) {
            throw new IllegalArgumentException("GGUF has no " + key);
        }
        return integer(v, key);
    }

    /** An integer key; @throws IllegalArgumentException (one line, for a FormatException) when it holds another type */
    private static long integer(GgufValue v, String key) {
        try {
            return v.asLong();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(key + " is " + v.type() + ", not an integer");
        }
    }

    private static double number(GgufValue v, String key) {
        try {
            return v.asDouble();
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(key + " is " + v.type() + ", not a number");
        }
    }
}

package dev.ckpt.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.nio.file.Path;

/**
 * The decoder hyper-parameters of a Llama-family {@code config.json} (LLaMA, LLaMA-2, Vicuna,
 * Mistral-style GQA, and the language model inside LLaVA), with transformers' defaults.
 *
 * @param ropeScalingType {@code "none"}, {@code "linear"} or {@code "dynamic"}
 * @param ropeScalingFactor position divisor (linear) or NTK factor (dynamic); 1 when unscaled
 */
public record LlamaConfig(int hiddenSize, int intermediateSize, int layerCount, int headCount, int kvHeadCount,
                          int headDim, int vocabSize, double rmsNormEps, double ropeTheta, String ropeScalingType,
                          double ropeScalingFactor, int maxPositions, boolean tieWordEmbeddings,
                          int bosTokenId, int eosTokenId) {

    /** Architectures this verifier runs; anything else is reported as unsupported. */
    static boolean isLlamaFamily(String architecture, String modelType) {
        return switch (modelType) {
            case "llama", "llava", "llava_llama", "mistral", "llava_mistral", "vicuna" -> true;
            default -> architecture.startsWith("Llama") || architecture.startsWith("LlavaLlama")
                    || architecture.startsWith("Mistral") || architecture.startsWith("LlavaMistral");
        };
    }

    /**
     * Reads the decoder fields of {@code config}.
     *
     * @throws FormatException when a required field is missing or the architecture is not Llama-like
     */
    public static LlamaConfig parse(JsonNode config, Path file) throws FormatException {
        String arch = config.path("architectures").path(0).asText("");
        String type = config.path("model_type").asText("");
        if (!isLlamaFamily(arch, type)) {
            throw new FormatException(file, Kind.UNSUPPORTED, "unsupported architecture '" + (arch.isEmpty() ? type : arch)
                    + "' (model_type '" + type + "'): verify runs LlamaForCausalLM and LlavaLlamaForCausalLM families");
        }
        int hidden = required(config, "hidden_size", file);
        int heads = required(config, "num_attention_heads", file);
        int kvHeads = config.path("num_key_value_heads").asInt(heads);
        int headDim = config.path("head_dim").asInt(hidden / heads);
        if (heads % kvHeads != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "head dimension " + headDim + " must be even for RoPE");
        }
        String scaling = "none";
        double factor = 1;
        JsonNode rs = config.path("rope_scaling");
        if (rs.isObject()) {
            scaling = rs.path("rope_type").asText(rs.path("type").asText("none"));
            factor = rs.path("factor").asDouble(1);
            if (!scaling.equals("linear") && !scaling.equals("dynamic") && !scaling.equals("default")) {
                throw new FormatException(file, Kind.UNSUPPORTED, "rope_scaling type '" + scaling
                        + "' is not supported (linear, dynamic)");
            }
            if (scaling.equals("default")) {
                scaling = "none";
                factor = 1;
            }
        }
        return new LlamaConfig(hidden, required(config, "intermediate_size", file), required(config, "num_hidden_layers", file),
                heads, kvHeads, headDim, required(config, "vocab_size", file), config.path("rms_norm_eps").asDouble(1e-6),
                config.path("rope_theta").asDouble(10000), scaling, factor, config.path("max_position_embeddings").asInt(2048),
                config.path("tie_word_embeddings").asBoolean(false), config.path("bos_token_id").asInt(1),
                firstInt(config.path("eos_token_id"), 2));
    }

    private static int firstInt(JsonNode node, int fallback) {
        return node.isArray() ? node.path(0).asInt(fallback) : node.asInt(fallback);
    }

    static int required(JsonNode config, String field, Path file) throws FormatException {
        JsonNode n = config.get(field);
        if (n == null || !n.canConvertToInt() || n.asInt() <= 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "config.json needs a positive integer \"" + field + "\"");
        }
        return n.asInt();
    }
}

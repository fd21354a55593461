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
        int kvHeads = config.hasNonNull("num_key_value_heads") ? required(config, "num_key_value_heads", file) : heads;
        if (!config.hasNonNull("head_dim") && hidden % heads != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "hidden_size " + hidden + " is not a multiple of"
                    + " num_attention_heads " + heads + " (and there is no head_dim)");
        }
        int headDim = config.hasNonNull("head_dim") ? required(config, "head_dim", file) : hidden / heads;
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
                heads, kvHeads, headDim, required(config, "vocab_size", file), positive(config, "rms_norm_eps", 1e-6, file),
                positive(config, "rope_theta", 10000, file), scaling, checkFactor(factor, file),
                config.hasNonNull("max_position_embeddings") ? required(config, "max_position_embeddings", file) : 2048,
                config.path("tie_word_embeddings").asBoolean(false), config.path("bos_token_id").asInt(1),
                firstInt(config.path("eos_token_id"), 2));
    }

    /** A positive finite number, or {@code fallback} when the field is absent or null. */
    private static double positive(JsonNode config, String field, double fallback, Path file) throws FormatException {
        JsonNode n = config.get(field);
        if (n == null || n.isNull()) {
            return fallback;
        }
        double v = n.asDouble(Double.NaN);
        if (!n.isNumber() || !(v > 0) || Double.isInfinite(v)) {
            throw new FormatException(file, Kind.INVALID_VALUE, "config.json needs a positive number \"" + field
                    + "\", got " + n);
        }
        return v;
    }

    private static double checkFactor(double factor, Path file) throws FormatException {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new FormatException(file, Kind.INVALID_VALUE, "rope_scaling factor must be a positive number, got " + factor);
        }
        return factor;
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

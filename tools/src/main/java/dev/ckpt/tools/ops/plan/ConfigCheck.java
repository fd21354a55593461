package dev.ckpt.tools.ops.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/**
 * Compares the architecture fields of two {@code config.json}s (base vs delta, target or LoRA
 * folder) before any tensor is touched, and phrases a mismatch as a diagnosis of the wrong base:
 * model size (layers, hidden), family/version (LLaMA-1 2048 vs LLaMA-2 4096 positions, norm eps,
 * rope theta), vocab. Fields missing from either config are not compared.
 */
public final class ConfigCheck {
    /** Fields whose mismatch means "a different model": shapes or numerics differ. */
    private static final List<String> ARCHITECTURE = List.of("num_hidden_layers", "hidden_size", "intermediate_size",
            "num_attention_heads", "num_key_value_heads");
    /** Fields that do not change shapes but tell model versions apart (LLaMA-1 vs LLaMA-2, Vicuna v1.1 vs v1.5). */
    private static final List<String> VERSION = List.of("max_position_embeddings", "rms_norm_eps", "rope_theta");

    private ConfigCheck() {
    }

    /**
     * Reports every differing field as an error, with a description of both models.
     *
     * @param base             config of the base checkpoint
     * @param other            config of the delta / target / LoRA folder
     * @param otherRole        how to name the other input in messages ("delta", "target", "LoRA folder")
     * @param vocabMayGrow     whether {@code other} may have a larger {@code vocab_size} (LLaVA's added tokens)
     */
    public static void compare(ObjectNode base, ObjectNode other, String otherRole, boolean vocabMayGrow, Diagnostics d) {
        String describedBase = describe(base);
        String describedOther = describe(other);
        for (String f : ARCHITECTURE) {
            if (differs(base, other, f)) {
                d.error("wrong base: " + f + " is " + base.get(f) + " in the base (" + describedBase + ") but "
                        + other.get(f) + " in the " + otherRole + " (" + describedOther + "); use the base model the "
                        + otherRole + " was made from");
            }
        }
        for (String f : VERSION) {
            if (differs(base, other, f)) {
                d.error("wrong base version: " + f + " is " + base.get(f) + " in the base (" + describedBase + ") but "
                        + other.get(f) + " in the " + otherRole + " (" + describedOther + ")" + hint(f, other.get(f)));
            }
        }
        if (differs(base, other, "vocab_size")) {
            long vb = base.get("vocab_size").asLong();
            long vo = other.get("vocab_size").asLong();
            if (vo > vb && vocabMayGrow) {
                d.note("vocab grows from " + vb + " (base) to " + vo + " (" + otherRole + "): rows " + vb + ".." + (vo - 1)
                        + " of embed_tokens/lm_head come from the " + otherRole + " as they are");
            } else if (vo < vb) {
                d.error("vocab_size is " + vb + " in the base but only " + vo + " in the " + otherRole
                        + "; the base must be the smaller model (are the two inputs swapped?)");
            } else {
                d.error("vocab_size is " + vb + " in the base but " + vo + " in the " + otherRole
                        + "; strict mode needs identical vocabularies (drop --strict to allow LLaVA-style vocab growth)");
            }
        }
    }

    /**
     * Reports an error when {@code c} holds quantized weights: a {@code quantization_config} in its
     * config, or GPTQ/AWQ/bitsandbytes companion tensors ({@code .qweight}, {@code .absmax}, ...).
     * Deltas and adapters are only ever combined with full-precision weights.
     */
    public static void rejectQuantized(dev.ckpt.formats.Checkpoint c, String role, Diagnostics d) {
        Optional<ObjectNode> cfg = c.config();
        if (cfg.isPresent() && cfg.get().hasNonNull("quantization_config")) {
            JsonNode q = cfg.get().get("quantization_config");
            d.error("the " + role + " is quantized (quantization_config: "
                    + q.path("quant_method").asText(q.path("load_in_4bit").asBoolean() ? "bitsandbytes 4-bit" : "unknown")
                    + "); use its full-precision fp16/bf16/fp32 weights and quantize the result afterwards");
            return;
        }
        for (var t : c.tensors()) {
            String n = t.name();
            if (n.endsWith(".qweight") || n.endsWith(".absmax") || n.endsWith(".SCB") || n.contains(".quant_state")
                    || n.endsWith(".weight_format") || n.endsWith(".qzeros")) {
                d.error("the " + role + " is quantized (tensor '" + n + "'); use its full-precision fp16/bf16/fp32"
                        + " weights and quantize the result afterwards");
                return;
            }
        }
    }

    /** A short human description, e.g. "llama, 32 layers, hidden 4096, 7B class, 2048 positions". */
    public static String describe(ObjectNode c) {
        StringBuilder sb = new StringBuilder();
        sb.append(c.path("model_type").asText("unknown type"));
        if (c.has("num_hidden_layers")) {
            sb.append(", ").append(c.get("num_hidden_layers").asInt()).append(" layers");
        }
        if (c.has("hidden_size")) {
            sb.append(", hidden ").append(c.get("hidden_size").asInt());
        }
        String size = sizeClass(c.path("num_hidden_layers").asInt(-1), c.path("hidden_size").asInt(-1));
        if (size != null) {
            sb.append(", ").append(size);
        }
        if (c.has("max_position_embeddings")) {
            sb.append(", ").append(c.get("max_position_embeddings").asInt()).append(" positions");
        }
        return sb.toString();
    }

    private static String sizeClass(int layers, int hidden) {
        if (layers == 32 && hidden == 4096) {
            return "7B class";
        } else if (layers == 40 && hidden == 5120) {
            return "13B class";
        } else if (layers == 60 && hidden == 6656) {
            return "33B class";
        } else if (layers == 80 && hidden == 8192) {
            return "65B/70B class";
        }
        return null;
    }

    private static String hint(String field, JsonNode expected) {
        if (field.equals("max_position_embeddings")) {
            return switch (expected.asInt()) {
                case 2048 -> "; the " + "other input expects a LLaMA-1 class base (2048 positions: LLaMA-1, Vicuna <= v1.3;"
                        + " LLaVA v0/v1.1 and Vicuna v1.1 deltas are against LLaMA-1)";
                case 4096 -> "; the other input expects a LLaMA-2 class base (4096 positions: LLaMA-2, Vicuna v1.5)";
                default -> "; use the base with " + expected.asInt() + " positions";
            };
        }
        return "; use the base model the other input was made from";
    }

    private static boolean differs(ObjectNode a, ObjectNode b, String field) {
        JsonNode x = a.get(field);
        JsonNode y = b.get(field);
        if (x == null || y == null || x.isNull() || y.isNull()) {
            return false;
        }
        if (x.isNumber() && y.isNumber()) {
            return x.asDouble() != y.asDouble();
        }
        return !x.equals(y);
    }
}

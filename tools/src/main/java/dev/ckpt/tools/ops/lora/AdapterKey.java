package dev.ckpt.tools.ops.lora;

import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One tensor key of a PEFT adapter file, normalised to the base module it belongs to
 * (algorithms.md 2.3): the {@code base_model.model.} wrapper prefix, {@code .base_layer} and
 * {@code .modules_to_save.<adapter>} segments and a stray {@code .<adapter>} segment before the
 * last component are removed.
 *
 * @param key    the key as stored in the adapter file
 * @param module the module path in the base model, e.g. {@code model.layers.0.self_attn.q_proj};
 *               for {@link Role#FULL} the whole base tensor name instead
 * @param role   what the tensor is
 */
public record AdapterKey(String key, String module, Role role) {

    /** The wrapper prefix PEFT's CausalLM model adds to every key. */
    public static final String PEFT_PREFIX = "base_model.model.";

    /** What an adapter tensor is. */
    public enum Role {
        /** {@code lora_A.weight}: [r, in] (conv: [r, in, kh, kw]). */
        LORA_A,
        /** {@code lora_B.weight}: [out, r] (conv: [out, r, 1, 1]). */
        LORA_B,
        /** {@code lora_B.bias} (lora_bias=True): [out]. */
        LORA_B_BIAS,
        /** {@code lora_embedding_A}: [r, num_embeddings]. */
        EMBEDDING_A,
        /** {@code lora_embedding_B}: [embedding_dim, r]. */
        EMBEDDING_B,
        /** {@code lora_magnitude_vector} (DoRA): [out] or [embedding_dim]. */
        MAGNITUDE,
        /** A whole tensor (modules_to_save, bias="all", saved embeddings) replacing the base tensor {@code module}. */
        FULL,
        /** A {@code lora_*} key of a kind this tool does not know (AdaLoRA, VeRA, ...). */
        UNKNOWN_LORA
    }

    private static final Pattern LINEAR = Pattern.compile("^(.+)\\.lora_(A|B)(?:\\.[^.]+)?\\.(weight|bias)$");
    private static final Pattern EMBEDDING = Pattern.compile("^(.+)\\.lora_embedding_(A|B)(?:\\.[^.]+)?$");
    private static final Pattern MAGNITUDE = Pattern.compile("^(.+)\\.lora_magnitude_vector(?:\\.[^.]+)?(?:\\.weight)?$");
    private static final Pattern SAVED_MODULE = Pattern.compile("\\.modules_to_save\\.[^.]+\\.");

    public AdapterKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(module, "module");
        Objects.requireNonNull(role, "role");
    }

    /** Classifies one stored key. Never fails: unknown {@code lora_*} kinds get {@link Role#UNKNOWN_LORA}. */
    public static AdapterKey parse(String key) {
        String k = key.startsWith(PEFT_PREFIX) ? key.substring(PEFT_PREFIX.length()) : key;
        k = k.replace(".base_layer.", ".");
        Matcher m = LINEAR.matcher(k);
        if (m.matches()) {
            Role role = m.group(2).equals("A")
                    ? (m.group(3).equals("weight") ? Role.LORA_A : Role.UNKNOWN_LORA)
                    : (m.group(3).equals("weight") ? Role.LORA_B : Role.LORA_B_BIAS);
            return new AdapterKey(key, m.group(1), role);
        }
        m = EMBEDDING.matcher(k);
        if (m.matches()) {
            return new AdapterKey(key, m.group(1), m.group(2).equals("A") ? Role.EMBEDDING_A : Role.EMBEDDING_B);
        }
        m = MAGNITUDE.matcher(k);
        if (m.matches()) {
            return new AdapterKey(key, m.group(1), Role.MAGNITUDE);
        }
        if (k.contains("lora_")) {
            return new AdapterKey(key, k, Role.UNKNOWN_LORA);
        }
        k = SAVED_MODULE.matcher(k).replaceAll(".");
        k = k.replace(".original_module.", ".");
        return new AdapterKey(key, k, Role.FULL);
    }
}

package dev.ckpt.tools.ops.lora;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LLaVA's {@code non_lora_trainables.bin}: the parameters trained outside LoRA (the projector, and
 * {@code embed_tokens}/{@code lm_head} when tuned), saved from the PeftModel with its prefixes.
 * Their values are absolute: they replace or add base tensors, no arithmetic.
 */
public final class LlavaTrainables {
    /** File names looked for in a LoRA folder, in order (the safetensors twin is accepted too). */
    public static final String[] FILE_NAMES = {"non_lora_trainables.bin", "non_lora_trainables.safetensors"};

    private static final String BASE_MODEL = "base_model.";
    private static final String MODEL = "model.";

    private LlavaTrainables() {
    }

    /**
     * The exact renaming of {@code llava/model/builder.py} (algorithms.md 2.2), in input order:
     * (1) every key loses a leading {@code base_model.}; (2) if any key then starts with
     * {@code model.model.}, every key starting with {@code model.} loses it. Rule 2 is global, as in
     * LLaVA: a file mixing prefixed and unprefixed keys is renamed exactly as LLaVA would rename it.
     *
     * @return stored key to renamed key, in input order
     */
    public static Map<String, String> rename(Collection<String> keys) {
        Map<String, String> step1 = new LinkedHashMap<>();
        boolean nested = false;
        for (String k : keys) {
            String r = k.startsWith(BASE_MODEL) ? k.substring(BASE_MODEL.length()) : k;
            step1.put(k, r);
            nested |= r.startsWith("model.model.");
        }
        if (!nested) {
            return step1;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : step1.entrySet()) {
            String r = e.getValue();
            out.put(e.getKey(), r.startsWith(MODEL) ? r.substring(MODEL.length()) : r);
        }
        return out;
    }
}

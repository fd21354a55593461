package dev.ckpt.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEFT adapter resolved for application at run time, format-neutral: which tensors of which file
 * form which low-rank term of which module, with what scale, and which whole tensors replace (or
 * add to) the base. Built by the caller from {@code adapter_config.json} and the adapter's keys
 * (ckpt's tools do it with merge-lora's PEFT parsing); {@link #plainLora} is a minimal resolver for
 * plain LoRA adapters. The verifier then does the arithmetic at run time, never by merging weights.
 *
 * @param label         "adapter 1 (dir)" for messages
 * @param weights       the adapter weight file holding every term's factors
 * @param terms         low-rank terms, in file order
 * @param replacements  whole tensors used instead of (or in addition to) base tensors:
 *                      {@code modules_to_save}, LLaVA {@code non_lora_trainables} after renaming
 * @param modelConfig   the config.json the model runs with (a LLaVA LoRA folder's), or null for the base's
 */
public record RuntimeAdapter(String label, Path weights, List<Term> terms, List<Replacement> replacements, ObjectNode modelConfig) {
    private static final Pattern NAME = Pattern.compile("^base_model\\.model\\.(.+)\\.lora_([AB])(?:\\.[A-Za-z0-9_]+)?\\.weight$");

    public RuntimeAdapter {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(weights, "weights");
        terms = List.copyOf(terms);
        replacements = List.copyOf(replacements);
    }

    /** How a term's factors map onto the stored tensor {@code W [rows, cols]} of its module. */
    public enum TermKind {
        /** {@code ΔW = s·B·A}, A {@code [r, cols]}, B {@code [rows, r]}; DoRA norms per row. */
        LINEAR,
        /** fan_in_fan_out: {@code ΔW = s·(B·A)ᵀ}, A {@code [r, rows]}, B {@code [cols, r]}; DoRA norms per column. */
        TRANSPOSED,
        /** Embedding {@code E [V, D]}: {@code ΔE = s·(B·A)ᵀ}, A {@code [r, V]}, B {@code [D, r]}; DoRA norms per column. */
        EMBEDDING
    }

    /**
     * One low-rank term.
     *
     * @param module    module path, e.g. {@code model.layers.0.self_attn.q_proj} (the tensor is {@code module + ".weight"})
     * @param a         key of the A factor in {@link #weights()}
     * @param b         key of the B factor
     * @param magnitude key of the DoRA magnitude vector, or null for plain LoRA
     * @param scale     PEFT scaling ({@code alpha/r} or {@code alpha/sqrt(r)}) times the adapter's weight
     */
    public record Term(TermKind kind, String module, String a, String b, String magnitude, double scale) {
        public Term {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(module, "module");
            Objects.requireNonNull(a, "a");
            Objects.requireNonNull(b, "b");
        }
    }

    /** Tensor {@code name} of the model is {@code sourceName} of {@code file}. */
    public record Replacement(String name, Path file, String sourceName) {
        public Replacement {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(file, "file");
            Objects.requireNonNull(sourceName, "sourceName");
        }
    }

    /**
     * A minimal resolver for plain PEFT LoRA folders (no DoRA, fan_in_fan_out, embedding LoRA or
     * replaced modules): {@code s = lora_alpha / r} ({@code / sqrt(r)} with {@code use_rslora};
     * {@code rank_pattern} / {@code alpha_pattern} matched by module-name suffix), times {@code weight}.
     *
     * @throws FormatException when the folder is not a PEFT adapter or needs a full resolver
     */
    public static RuntimeAdapter plainLora(Path dir, double weight) throws IOException {
        Path cfgFile = dir.resolve("adapter_config.json");
        if (!Files.isRegularFile(cfgFile)) {
            throw new FormatException(dir, Kind.MISSING_TENSOR, "no adapter_config.json: not a PEFT adapter directory");
        }
        JsonNode cfg;
        try {
            cfg = new ObjectMapper().readTree(cfgFile.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(cfgFile, Kind.INVALID_JSON, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!cfg.path("peft_type").asText("LORA").equals("LORA") || cfg.path("use_dora").asBoolean(false)
                || cfg.path("fan_in_fan_out").asBoolean(false)) {
            throw new FormatException(cfgFile, Kind.UNSUPPORTED, "the plain resolver applies plain LoRA only (no DoRA or"
                    + " fan_in_fan_out); pass an adapter resolved by ckpt's tools (OperationReferences.mergeLora)");
        }
        Path file = Files.isRegularFile(dir.resolve("adapter_model.safetensors")) ? dir.resolve("adapter_model.safetensors")
                : dir.resolve("adapter_model.bin");
        List<Term> terms = new ArrayList<>();
        try (CheckpointSource src = CheckpointSource.open(file)) {
            java.util.Map<String, TensorInfo> infos = new java.util.HashMap<>();
            src.tensors().forEach(t -> infos.put(t.name(), t));
            for (TensorInfo t : src.tensors()) {
                Matcher m = NAME.matcher(t.name());
                if (!m.matches() || !m.group(2).equals("A")) {
                    continue; // B is found from its A; anything else is reported by the adapter-used check
                }
                String b = t.name().replace(".lora_A", ".lora_B");
                if (!infos.containsKey(b)) {
                    continue;
                }
                String module = m.group(1);
                int rank = (int) pattern(cfg, "rank_pattern", module, t.shape().dim(0));
                double alpha = pattern(cfg, "alpha_pattern", module, cfg.path("lora_alpha").asDouble(rank));
                double scale = cfg.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(rank) : alpha / rank;
                terms.add(new Term(TermKind.LINEAR, module, t.name(), b, null, weight * scale));
            }
        }
        return new RuntimeAdapter("adapter " + dir.getFileName(), file, terms, List.of(), null);
    }

    private static double pattern(JsonNode cfg, String field, String module, double fallback) {
        for (var e : cfg.path(field).properties()) {
            if (module.equals(e.getKey()) || module.endsWith("." + e.getKey())) {
                return e.getValue().asDouble(fallback);
            }
        }
        return fallback;
    }
}

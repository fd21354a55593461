package dev.ckpt.tools.ops.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The fields of a PEFT {@code adapter_config.json} that matter for merging (LoraConfig, PEFT
 * {@code src/peft/tuners/lora/config.py}). Every field has PEFT's default when absent; unknown keys
 * are ignored. Features that a plain merge cannot honour are collected in {@link #unsupported()}.
 *
 * @param peftType       {@code peft_type}, "LORA" for every adapter this tool merges
 * @param rank           {@code r}, default 8
 * @param alpha          {@code lora_alpha}, default 8
 * @param targetModules  {@code target_modules}: suffix list, one regex, or "all-linear"
 * @param rankPattern    {@code rank_pattern}, in file order (first matching key wins)
 * @param alphaPattern   {@code alpha_pattern}, in file order
 * @param useRslora      {@code use_rslora}: scale = alpha / sqrt(r) instead of alpha / r
 * @param fanInFanOut    {@code fan_in_fan_out}: the base stores [in, out] (GPT-2 Conv1D)
 * @param useDora        {@code use_dora}: weight-decomposed LoRA with a magnitude vector
 * @param modulesToSave  {@code modules_to_save}: modules saved whole, replacing the base
 * @param unsupported    human-readable reasons this adapter cannot be merged into an unmodified base
 */
public record PeftConfig(String peftType, int rank, double alpha, TargetModules targetModules,
                         Map<String, Integer> rankPattern, Map<String, Double> alphaPattern,
                         boolean useRslora, boolean fanInFanOut, boolean useDora,
                         List<String> modulesToSave, List<String> unsupported) {

    /** File name PEFT writes next to the adapter weights. */
    public static final String FILE_NAME = "adapter_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    public PeftConfig {
        Objects.requireNonNull(peftType, "peftType");
        Objects.requireNonNull(targetModules, "targetModules");
        if (rank <= 0) {
            throw new IllegalArgumentException("r must be positive, was " + rank);
        }
        rankPattern = Collections.unmodifiableMap(new LinkedHashMap<>(rankPattern));
        alphaPattern = Collections.unmodifiableMap(new LinkedHashMap<>(alphaPattern));
        modulesToSave = List.copyOf(modulesToSave);
        unsupported = List.copyOf(unsupported);
    }

    /** Which modules the adapter was configured to target (used to validate, not to plan). */
    public sealed interface TargetModules {
        /** True when PEFT would have wrapped module {@code module} (a dotted module path). */
        boolean matches(String module);

        /** A list of module-name suffixes: exact name or {@code endswith("." + t)}. */
        record Names(List<String> names) implements TargetModules {
            public Names {
                names = List.copyOf(names);
            }

            @Override
            public boolean matches(String module) {
                for (String t : names) {
                    if (module.equals(t) || module.endsWith("." + t)) {
                        return true;
                    }
                }
                return false;
            }
        }

        /** One regular expression that must match the whole module name (Python re.fullmatch). */
        record Regex(String regex) implements TargetModules {
            @Override
            public boolean matches(String module) {
                return Pattern.compile(regex).matcher(module).matches();
            }
        }

        /** "all-linear": every Linear except the output layer; names are not checked. */
        record AllLinear() implements TargetModules {
            @Override
            public boolean matches(String module) {
                return !module.endsWith("lm_head");
            }
        }

        /** Absent or null: nothing to validate against. */
        record Unspecified() implements TargetModules {
            @Override
            public boolean matches(String module) {
                return true;
            }
        }
    }

    /** Reads and validates {@code adapter_config.json}. @throws FormatException on bad JSON or values */
    public static PeftConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(file, FormatException.Kind.INVALID_JSON,
                    "not valid JSON (" + e.getOriginalMessage() + "); expected a PEFT adapter_config.json");
        }
        return parse(file, root);
    }

    /** Parses an already-read config; {@code file} only names the source in errors. */
    public static PeftConfig parse(Path file, JsonNode root) throws FormatException {
        if (root == null || !root.isObject()) {
            throw bad(file, "top level is not a JSON object");
        }
        String peftType = text(root, "peft_type", "LORA");
        int r = integer(file, root, "r", 8);
        if (r <= 0) {
            throw bad(file, "r must be a positive integer, was " + root.get("r"));
        }
        double alpha = number(file, root, "lora_alpha", 8);
        List<String> unsupported = new ArrayList<>();
        if (!"LORA".equals(peftType)) {
            unsupported.add("peft_type is " + peftType + ", only LORA adapters can be merged");
        }
        JsonNode init = root.get("init_lora_weights");
        if (init != null && init.isTextual()) {
            String v = init.asText();
            if (v.startsWith("pissa") || v.equals("olora") || v.equals("corda") || v.equals("loftq")) {
                unsupported.add("init_lora_weights=" + v + " trains against a modified base; convert the adapter"
                        + " to a plain LoRA with PEFT (path_initial_model_for_weight_conversion) first");
            }
        }
        for (String key : List.of("layer_replication", "target_parameters", "trainable_token_indices",
                "alora_invocation_tokens")) {
            JsonNode v = root.get(key);
            if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty())) {
                unsupported.add(key + " is set; merging it is not supported");
            }
        }
        if (root.path("use_qalora").asBoolean(false)) {
            unsupported.add("use_qalora is set; QA-LoRA adapters need their quantized base");
        }
        return new PeftConfig(peftType, r, alpha, targets(file, root.get("target_modules")),
                intPattern(file, root.get("rank_pattern")), doublePattern(file, root.get("alpha_pattern")),
                root.path("use_rslora").asBoolean(false), root.path("fan_in_fan_out").asBoolean(false),
                root.path("use_dora").asBoolean(false), strings(root.get("modules_to_save")), unsupported);
    }

    /** Rank configured for {@code module}: the first {@code rank_pattern} key that matches, else {@code r}. */
    public int rankFor(String module) {
        String key = patternKey(rankPattern.keySet(), module);
        return key == null ? rank : rankPattern.get(key);
    }

    /** Alpha configured for {@code module}: the first {@code alpha_pattern} key that matches, else {@code lora_alpha}. */
    public double alphaFor(String module) {
        String key = patternKey(alphaPattern.keySet(), module);
        return key == null ? alpha : alphaPattern.get(key);
    }

    /**
     * PEFT's scaling for a module of rank {@code r}: {@code alpha/r}, or {@code alpha/sqrt(r)} with
     * rsLoRA, computed in double as Python does and then used as an f32 factor as PyTorch does.
     */
    public float scaleFor(String module, int r) {
        double a = alphaFor(module);
        return (float) (useRslora ? a / Math.sqrt(r) : a / r);
    }

    /**
     * PEFT {@code get_pattern_key}: the first key {@code k} (file order) such that the regex
     * {@code (.*\.)?(k)$} matches the whole module name, or null.
     */
    static String patternKey(Iterable<String> keys, String module) {
        for (String k : keys) {
            try {
                if (Pattern.compile("(.*\\.)?(" + k + ")$").matcher(module).matches()) {
                    return k;
                }
            } catch (PatternSyntaxException e) {
                // A key that is not a valid Java regex can only match literally.
                if (module.equals(k) || module.endsWith("." + k)) {
                    return k;
                }
            }
        }
        return null;
    }

    private static TargetModules targets(Path file, JsonNode node) throws FormatException {
        if (node == null || node.isNull()) {
            return new TargetModules.Unspecified();
        }
        if (node.isTextual()) {
            String v = node.asText();
            if (v.equals("all-linear")) {
                return new TargetModules.AllLinear();
            }
            try {
                Pattern.compile(v);
            } catch (PatternSyntaxException e) {
                throw bad(file, "target_modules regex '" + v + "' does not compile: " + e.getDescription());
            }
            return new TargetModules.Regex(v);
        }
        if (node.isArray()) {
            return new TargetModules.Names(strings(node));
        }
        throw bad(file, "target_modules must be a list of names or a regex string, was " + node.getNodeType());
    }

    private static Map<String, Integer> intPattern(Path file, JsonNode node) throws FormatException {
        Map<String, Integer> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw bad(file, "rank_pattern must be an object of pattern -> rank");
        }
        for (var e : node.properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() <= 0 || !e.getValue().isIntegralNumber()) {
                throw bad(file, "rank_pattern['" + e.getKey() + "'] must be a positive integer, was " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().asInt());
        }
        return out;
    }

    private static Map<String, Double> doublePattern(Path file, JsonNode node) throws FormatException {
        Map<String, Double> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isObject()) {
            throw bad(file, "alpha_pattern must be an object of pattern -> alpha");
        }
        for (var e : node.properties()) {
            if (!e.getValue().isNumber()) {
                throw bad(file, "alpha_pattern['" + e.getKey() + "'] must be a number, was " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().asDouble());
        }
        return out;
    }

    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (node.isTextual()) {
            out.add(node.asText());
            return out;
        }
        for (JsonNode n : node) {
            out.add(n.asText());
        }
        return out;
    }

    private static String text(JsonNode root, String key, String dflt) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static int integer(Path file, JsonNode root, String key, int dflt) throws FormatException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw bad(file, key + " must be an integer, was " + v);
        }
        return v.asInt();
    }

    private static double number(Path file, JsonNode root, String key, double dflt) throws FormatException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isNumber()) {
            throw bad(file, key + " must be a number, was " + v);
        }
        return v.asDouble();
    }

    private static FormatException bad(Path file, String msg) {
        return new FormatException(file, FormatException.Kind.INVALID_VALUE, msg);
    }
}

package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter ({@code adapter_config.json} + {@code adapter_model.safetensors}) applied at
 * run time, unmerged: a target linear computes {@code W x + s · B (A x)} with {@code s = alpha / r}
 * ({@code alpha / sqrt(r)} with {@code use_rslora}; {@code rank_pattern} / {@code alpha_pattern}
 * honoured by module-name suffix). Owns its weights (a sub-manager) and its checkpoint.
 */
final class LoraAdapter implements AutoCloseable {
    private static final Pattern NAME = Pattern.compile("^base_model\\.model\\.(.+)\\.lora_([AB])(?:\\.[A-Za-z0-9_]+)?\\.weight$");

    /** One adapted linear: {@code a [r, in]}, {@code b [out, r]}, {@code scale}. */
    record Pair(NDArray a, NDArray b, double scale) {
    }

    private final WeightSource source;
    private final WeightStore store;
    private final Map<String, String[]> names = new HashMap<>();
    private final Set<String> applied = new LinkedHashSet<>();
    private final JsonNode config;
    private final double weight;

    private LoraAdapter(WeightSource source, WeightStore store, JsonNode config, double weight) {
        this.source = source;
        this.store = store;
        this.config = config;
        this.weight = weight;
    }

    /**
     * Several adapters applied together (merge-lora's {@code --lora A:0.5 --lora B}): a linear adds the
     * term of every adapter that targets it. Empty when there is no adapter. Closes its members.
     */
    static final class Group implements AutoCloseable {
        private final List<LoraAdapter> members;

        private Group(List<LoraAdapter> members) {
            this.members = members;
        }

        static Group open(List<Reference.Adapter> adapters, NDManager parent, DataType computeType) throws IOException {
            List<LoraAdapter> opened = new java.util.ArrayList<>();
            try {
                for (Reference.Adapter a : adapters) {
                    opened.add(LoraAdapter.open(a.dir(), a.weight(), parent, computeType));
                }
            } catch (IOException | RuntimeException e) {
                opened.forEach(LoraAdapter::close);
                throw e;
            }
            return new Group(List.copyOf(opened));
        }

        boolean isEmpty() {
            return members.isEmpty();
        }

        /** Every member's pair for {@code module}, in adapter order. */
        List<Pair> pairs(String module, long in, long out) throws IOException {
            List<Pair> pairs = new java.util.ArrayList<>();
            for (LoraAdapter a : members) {
                a.pair(module, in, out).ifPresent(pairs::add);
            }
            return pairs;
        }

        /** Adapter tensors no target consumed, over all members. */
        List<String> unused() {
            return members.stream().flatMap(a -> a.unused().stream()).toList();
        }

        @Override
        public void close() {
            members.forEach(LoraAdapter::close);
        }
    }

    /** @throws FormatException when the directory is not a PEFT LoRA adapter this code can apply */
    static LoraAdapter open(Path dir, double weight, NDManager parent, DataType computeType) throws IOException {
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
        String type = cfg.path("peft_type").asText("LORA");
        if (!type.equals("LORA") || cfg.path("use_dora").asBoolean(false) || cfg.path("fan_in_fan_out").asBoolean(false)) {
            throw new FormatException(cfgFile, Kind.UNSUPPORTED, "only plain LoRA adapters are applied at run time (peft_type LORA, no DoRA, fan_in_fan_out false)");
        }
        WeightSource src = CheckpointSource.open(dir);
        LoraAdapter adapter = new LoraAdapter(src, new WeightStore(src, parent.newSubManager(), computeType), cfg, weight);
        for (TensorInfo t : src.tensors()) {
            Matcher m = NAME.matcher(t.name());
            if (!m.matches()) {
                continue; // reported as unused by the adapter-used check
            }
            adapter.names.computeIfAbsent(m.group(1), k -> new String[2])[m.group(2).equals("A") ? 0 : 1] = t.name();
        }
        return adapter;
    }

    /** The adapter pair for module {@code module} (e.g. {@code model.layers.0.self_attn.q_proj}), if any. */
    Optional<Pair> pair(String module, long in, long out) throws IOException {
        String[] ab = names.get(module);
        if (ab == null || ab[0] == null || ab[1] == null) {
            return Optional.empty();
        }
        long r = store.info(ab[0]).shape().dim(0);
        NDArray a = store.load(ab[0], r, in);
        NDArray b = store.load(ab[1], out, r);
        int rank = patternInt("rank_pattern", module, (int) r);
        double alpha = patternDouble("alpha_pattern", module, config.path("lora_alpha").asDouble(rank));
        double scale = config.path("use_rslora").asBoolean(false) ? alpha / Math.sqrt(rank) : alpha / rank;
        applied.add(module);
        return Optional.of(new Pair(a, b, weight * scale));
    }

    private int patternInt(String field, String module, int fallback) {
        return (int) patternDouble(field, module, fallback);
    }

    private double patternDouble(String field, String module, double fallback) {
        for (var it = config.path(field).properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (module.equals(e.getKey()) || module.endsWith("." + e.getKey())) {
                return e.getValue().asDouble(fallback);
            }
        }
        return fallback;
    }

    /** Adapter tensors no target consumed (a target module this engine does not run). */
    List<String> unused() {
        return store.unused();
    }

    @Override
    public void close() {
        store.close();
        source.close();
    }
}

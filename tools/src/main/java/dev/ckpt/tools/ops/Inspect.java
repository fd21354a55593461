package dev.ckpt.tools.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Describes a checkpoint without reading tensor bytes: its kind (decided from files, config and tensor
 * names, never from folder names), architecture and key config fields, tensors, parameter count,
 * shards, and every problem found.
 */
public final class Inspect {
    /** What a checkpoint is. */
    public enum Kind {
        FULL_MODEL("full model"), PEFT_ADAPTER("PEFT adapter"),
        LLAVA_PROJECTOR("LLaVA projector / non-LoRA trainables"), GGUF("GGUF"),
        GGUF_MMPROJ("GGUF mmproj (vision encoder + projector for llama.cpp's mtmd)"), UNKNOWN("unknown");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One tensor row: where it lives and how big it is. */
    public record TensorRow(String name, DType dtype, Shape shape, long byteSize, String file) {
    }

    /**
     * The description.
     *
     * @param ignoredFiles weight files of another format than the one read (e.g. {@code .bin} beside {@code .safetensors})
     * @param config the key config fields (config.json, or adapter_config.json for adapters), in a fixed order
     */
    public record Report(Path path, Kind kind, String kindReason, Optional<String> architecture,
                         Map<String, JsonNode> config, List<TensorRow> tensors, long parameterCount, long tensorBytes,
                         List<String> weightFiles, List<String> sideFiles, List<String> ignoredFiles, List<String> problems) {
    }

    private static final List<String> CONFIG_KEYS = List.of("model_type", "hidden_size", "intermediate_size",
            "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size", "max_position_embeddings",
            "rms_norm_eps", "rope_theta", "torch_dtype", "tie_word_embeddings", "mm_vision_tower", "mm_projector_type",
            "mm_hidden_size");
    private static final List<String> ADAPTER_KEYS = List.of("peft_type", "base_model_name_or_path", "r", "lora_alpha",
            "lora_dropout", "target_modules", "modules_to_save", "task_type");

    private Inspect() {
    }

    /**
     * Inspects a directory or a single weight file.
     *
     * @throws FormatException when a weight file is malformed (the whole checkpoint cannot be described)
     */
    public static Report run(Path path) throws IOException {
        Optional<Path> gguf = ggufFile(path);
        if (gguf.isPresent()) {
            try (Checkpoint c = Checkpoint.open(path)) {
                Optional<String> mmproj = mmprojReason(gguf.get());
                if (mmproj.isPresent()) {
                    return describe(path, c, Kind.GGUF_MMPROJ, "GGUF file " + gguf.get().getFileName() + ", " + mmproj.get());
                }
                return describe(path, c, Kind.GGUF, "GGUF file " + gguf.get().getFileName());
            } catch (FormatException e) {
                if (e.kind() != FormatException.Kind.UNSUPPORTED) {
                    throw e;
                }
                return new Report(path.toAbsolutePath(), Kind.GGUF, "GGUF file " + gguf.get().getFileName(), Optional.empty(),
                        Map.of(), List.of(), 0, 0, List.of(gguf.get().getFileName().toString()), List.of(), List.of(),
                        List.of(e.getMessage()));
            }
        }
        try (Checkpoint c = Checkpoint.open(path)) {
            KindDecision d = decide(c);
            return describe(path, c, d.kind(), d.reason());
        }
    }

    private record KindDecision(Kind kind, String reason) {
    }

    private static KindDecision decide(Checkpoint c) throws IOException {
        List<String> names = c.tensors().stream().map(TensorInfo::name).toList();
        boolean lora = names.stream().anyMatch(n -> n.contains(".lora_A") || n.contains(".lora_B"));
        if (c.json("adapter_config.json").isPresent()) {
            return new KindDecision(Kind.PEFT_ADAPTER, "adapter_config.json" + (lora ? " and lora_A/lora_B tensors" : ""));
        }
        if (lora) {
            return new KindDecision(Kind.PEFT_ADAPTER, "lora_A/lora_B tensors");
        }
        boolean lm = names.stream().anyMatch(n -> n.endsWith("embed_tokens.weight") || n.equals("lm_head.weight")
                || n.contains(".layers.") || n.contains(".h.") || n.contains(".blocks."));
        boolean projector = !names.isEmpty() && names.stream().allMatch(n -> n.contains("mm_projector")
                || n.contains("vision_tower") || n.contains("image_newline") || n.contains("embed_tokens"));
        if (projector && names.stream().anyMatch(n -> n.contains("mm_projector"))) {
            return new KindDecision(Kind.LLAVA_PROJECTOR, "only mm_projector" + (lm ? "/embed_tokens" : "") + " tensors");
        }
        if (lm) {
            return new KindDecision(Kind.FULL_MODEL, "decoder tensors" + (c.config().isPresent() ? " and config.json" : ""));
        }
        return new KindDecision(Kind.UNKNOWN, names.isEmpty() ? "no tensors" : "no known tensor names");
    }

    private static Report describe(Path path, Checkpoint c, Kind kind, String reason) throws IOException {
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        Optional<String> arch = Optional.empty();
        Optional<ObjectNode> config = kind == Kind.PEFT_ADAPTER ? c.json("adapter_config.json") : c.config();
        if (config.isPresent()) {
            JsonNode a = config.get().get("architectures");
            if (a != null && a.isArray() && !a.isEmpty()) {
                arch = Optional.of(a.get(0).asText());
            }
            for (String k : kind == Kind.PEFT_ADAPTER ? ADAPTER_KEYS : CONFIG_KEYS) {
                if (config.get().has(k)) {
                    fields.put(k, config.get().get(k));
                }
            }
        }
        List<TensorRow> rows = new ArrayList<>();
        long params = 0;
        for (TensorInfo t : c.tensors()) {
            rows.add(new TensorRow(t.name(), t.dtype(), t.shape(), t.byteSize(),
                    c.weightFileOf(t.name()).map(p -> p.getFileName().toString()).orElse("")));
            params += t.elementCount();
        }
        return new Report(path.toAbsolutePath(), kind, reason, arch, fields, rows, params, c.tensorBytes(),
                c.weightFiles().stream().map(p -> p.getFileName().toString()).toList(),
                c.sideFiles().stream().map(p -> p.getFileName().toString()).toList(),
                c.ignoredFiles().stream().map(p -> p.getFileName().toString()).toList(), c.problems());
    }

    /** Why a GGUF is an mmproj ({@code general.type mmproj}, {@code general.architecture clip}), or empty. */
    private static Optional<String> mmprojReason(Path file) throws IOException {
        try (dev.ckpt.formats.gguf.GgufFile f = dev.ckpt.formats.gguf.GgufFile.open(file)) {
            String type = f.value("general.type").map(v -> v instanceof dev.ckpt.formats.gguf.GgufValue.Str st ? st.value() : "").orElse("");
            String arch = f.value("general.architecture").map(v -> v instanceof dev.ckpt.formats.gguf.GgufValue.Str st ? st.value() : "")
                    .orElse("");
            if (type.equals("mmproj") || arch.equals("clip")) {
                String proj = f.value("clip.projector_type").map(v -> v instanceof dev.ckpt.formats.gguf.GgufValue.Str st ? st.value() : "?")
                        .orElse("?");
                return Optional.of("general.architecture " + arch + ", projector " + proj);
            }
            return Optional.empty();
        }
    }

    /** The GGUF file that {@code path} is, or that a directory holds as its only weights (decided by magic bytes). */
    private static Optional<Path> ggufFile(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            return hasGgufMagic(path) ? Optional.of(path) : Optional.empty();
        }
        if (!Files.isDirectory(path)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(path)) {
            List<Path> files = s.filter(Files::isRegularFile).sorted().toList();
            boolean otherWeights = files.stream().anyMatch(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") || n.endsWith(".bin");
            });
            if (otherWeights) {
                return Optional.empty();
            }
            for (Path p : files) {
                if (hasGgufMagic(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    private static boolean hasGgufMagic(Path file) throws IOException {
        if (!Files.isReadable(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F';
        }
    }
}

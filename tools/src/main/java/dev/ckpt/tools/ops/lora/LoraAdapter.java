package dev.ckpt.tools.ops.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One opened adapter folder, recognised from its files (never its name): {@code adapter_config.json}
 * plus {@code adapter_model.safetensors} or {@code adapter_model.bin} (PEFT), optionally
 * {@code non_lora_trainables.bin|.safetensors} and a full {@code config.json} (LLaVA LoRA runs).
 * Owns the opened weight files; close it after the plan has been written.
 *
 * @param dir         the folder
 * @param index       1-based position on the command line, used in messages
 * @param weight      the user's multiplier for this adapter's ΔW (1 = as trained)
 * @param config      parsed adapter_config.json
 * @param weights     the adapter tensors
 * @param trainables  LLaVA non_lora_trainables, if present
 * @param modelConfig the folder's config.json (LLaVA keeps the full model config there), if present
 */
public record LoraAdapter(Path dir, int index, double weight, PeftConfig config, Checkpoint weights,
                          Optional<Checkpoint> trainables, Optional<ObjectNode> modelConfig) implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] WEIGHT_FILES = {"adapter_model.safetensors", "adapter_model.bin"};

    /**
     * Opens an adapter folder.
     *
     * @throws FormatException when the folder is not a PEFT adapter (with what is missing)
     */
    public static LoraAdapter open(Path dir, int index, double weight) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new FormatException(dir, FormatException.Kind.UNSUPPORTED,
                    "is not a directory; --lora takes a PEFT adapter folder (adapter_config.json + adapter_model.*)");
        }
        Path cfg = dir.resolve(PeftConfig.FILE_NAME);
        if (!Files.isRegularFile(cfg)) {
            String hint = Files.exists(dir.resolve("mm_projector.bin"))
                    ? " (it has mm_projector.bin: a projector-only pretrain folder, not a LoRA)"
                    : Files.exists(dir.resolve("config.json")) ? " (it has config.json: a full model? then it is not an adapter)" : "";
            throw new FormatException(dir, FormatException.Kind.MISSING_TENSOR, "no adapter_config.json" + hint
                    + "; intermediate checkpoint-* folders of LLaVA runs lack it (only the final save has it)");
        }
        PeftConfig config = PeftConfig.read(cfg);
        Path weightsFile = null;
        for (String n : WEIGHT_FILES) {
            if (Files.isRegularFile(dir.resolve(n))) {
                weightsFile = dir.resolve(n);
                break;
            }
        }
        if (weightsFile == null) {
            throw new FormatException(dir, FormatException.Kind.MISSING_TENSOR,
                    "has adapter_config.json but no adapter_model.safetensors or adapter_model.bin");
        }
        Optional<ObjectNode> modelConfig = Optional.empty();
        Path mc = dir.resolve("config.json");
        if (Files.isRegularFile(mc)) {
            JsonNode n = JSON.readTree(mc.toFile());
            if (n instanceof ObjectNode o) {
                modelConfig = Optional.of(o);
            }
        }
        Checkpoint weights = Checkpoint.open(weightsFile);
        try {
            Optional<Checkpoint> trainables = Optional.empty();
            for (String n : LlavaTrainables.FILE_NAMES) {
                if (Files.isRegularFile(dir.resolve(n))) {
                    trainables = Optional.of(Checkpoint.open(dir.resolve(n)));
                    break;
                }
            }
            return new LoraAdapter(dir, index, weight, config, weights, trainables, modelConfig);
        } catch (IOException | RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** "adapter 2 (dir-name)" for messages. */
    public String label() {
        return "adapter " + index + " (" + dir.getFileName() + ")";
    }

    /** True when the folder's config.json is a LLaVA model config. */
    public boolean isLlava() {
        return modelConfig.map(c -> c.has("mm_vision_tower") || c.path("model_type").asText("").startsWith("llava"))
                .orElse(false);
    }

    @Override
    public void close() {
        weights.close();
        trainables.ifPresent(Checkpoint::close);
    }
}

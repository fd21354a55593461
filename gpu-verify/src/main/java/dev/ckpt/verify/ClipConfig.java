package dev.ckpt.verify;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A CLIP vision tower's hyper-parameters ({@code CLIPVisionConfig}), from a tower's
 * {@code config.json} (top level or its {@code vision_config}) or, for towers saved inside a
 * LLaVA checkpoint without a config, inferred from tensor shapes with 64-wide heads.
 *
 * @param hiddenAct {@code quick_gelu} (OpenAI CLIP) or {@code gelu}
 */
public record ClipConfig(int hiddenSize, int intermediateSize, int layerCount, int headCount, int imageSize,
                         int patchSize, double layerNormEps, String hiddenAct) {

    /** Patches per side of the square image. */
    public int gridSize() {
        return imageSize / patchSize;
    }

    /** Patch tokens (without the class token). */
    public int patchCount() {
        return gridSize() * gridSize();
    }

    static ClipConfig parse(JsonNode config, Path file) throws FormatException {
        JsonNode v = config.has("vision_config") ? config.get("vision_config") : config;
        int hidden = LlamaConfig.required(v, "hidden_size", file);
        return new ClipConfig(hidden, LlamaConfig.required(v, "intermediate_size", file),
                LlamaConfig.required(v, "num_hidden_layers", file), LlamaConfig.required(v, "num_attention_heads", file),
                LlamaConfig.required(v, "image_size", file), LlamaConfig.required(v, "patch_size", file),
                v.path("layer_norm_eps").asDouble(1e-5), v.path("hidden_act").asText("quick_gelu"));
    }

    /** Infers the config of a tower stored under {@code prefix} in {@code store}. */
    static ClipConfig infer(WeightStore store, String prefix) throws IOException {
        var patch = store.info(prefix + "embeddings.patch_embedding.weight").shape();
        var pos = store.info(prefix + "embeddings.position_embedding.weight").shape();
        var fc1 = store.info(prefix + "encoder.layers.0.mlp.fc1.weight").shape();
        int hidden = (int) patch.dim(0);
        int p = (int) patch.dim(2);
        int grid = (int) Math.round(Math.sqrt(pos.dim(0) - 1));
        if (grid * grid != pos.dim(0) - 1) {
            throw new FormatException(null, Kind.MISMATCH, prefix + "embeddings.position_embedding.weight has "
                    + pos.dim(0) + " rows, expected 1 + a square number of patches");
        }
        int layers = 0;
        while (store.has(prefix + "encoder.layers." + layers + ".mlp.fc1.weight")) {
            layers++;
        }
        return new ClipConfig(hidden, (int) fc1.dim(0), layers, Math.max(1, hidden / 64), grid * p, p, 1e-5, "quick_gelu");
    }
}

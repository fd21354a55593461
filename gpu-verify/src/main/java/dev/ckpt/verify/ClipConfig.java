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

    /**
     * Reads a tower's {@code config.json} (top level or {@code vision_config}), validated: positive sizes, the hidden
     * size a multiple of the heads, the image a whole number of patches, a positive eps, a known activation.
     */
    public static ClipConfig parse(JsonNode config, Path file) throws FormatException {
        JsonNode v = config.has("vision_config") ? config.get("vision_config") : config;
        int hidden = LlamaConfig.required(v, "hidden_size", file);
        int heads = LlamaConfig.required(v, "num_attention_heads", file);
        int image = LlamaConfig.required(v, "image_size", file);
        int patch = LlamaConfig.required(v, "patch_size", file);
        if (hidden % heads != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "vision hidden_size " + hidden + " is not a multiple of"
                    + " num_attention_heads " + heads);
        }
        if (image % patch != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "vision image_size " + image + " is not a multiple of"
                    + " patch_size " + patch);
        }
        double eps = v.path("layer_norm_eps").asDouble(1e-5);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new FormatException(file, Kind.INVALID_VALUE, "vision layer_norm_eps must be a positive number, got "
                    + v.path("layer_norm_eps"));
        }
        String act = v.path("hidden_act").asText("quick_gelu");
        if (!act.equals("quick_gelu") && !act.equals("gelu")) {
            throw new FormatException(file, Kind.UNSUPPORTED, "vision hidden_act '" + act + "' is not supported (quick_gelu,"
                    + " gelu)");
        }
        return new ClipConfig(hidden, LlamaConfig.required(v, "intermediate_size", file),
                LlamaConfig.required(v, "num_hidden_layers", file), heads, image, patch, eps, act);
    }

    /** Infers the config of a tower stored under {@code prefix} in {@code store}. */
    static ClipConfig infer(WeightStore store, String prefix) throws IOException {
        var patch = store.info(prefix + "embeddings.patch_embedding.weight").shape();
        var pos = store.info(prefix + "embeddings.position_embedding.weight").shape();
        var fc1 = store.info(prefix + "encoder.layers.0.mlp.fc1.weight").shape();
        if (patch.rank() != 4 || patch.dim(2) != patch.dim(3) || pos.rank() != 2 || pos.dim(0) < 2 || fc1.rank() != 2) {
            throw new FormatException(null, Kind.MISMATCH, prefix + "embeddings.patch_embedding.weight " + patch + ", "
                    + prefix + "embeddings.position_embedding.weight " + pos + " and the first fc1 " + fc1
                    + " are not the shapes of a CLIP vision tower ([hidden, 3, p, p], [patches + 1, hidden], [inter, hidden])");
        }
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

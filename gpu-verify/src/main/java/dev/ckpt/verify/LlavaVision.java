package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The image side of a LLaVA checkpoint: CLIP tower (from tensors inside the checkpoint or a
 * separate tower checkpoint) and projector, turning CHW pixels into language-model embeddings.
 */
final class LlavaVision implements AutoCloseable {
    static final String INNER_PREFIX = "model.vision_tower.vision_tower.vision_model.";

    private final ClipVisionTower tower;
    private final Projector projector;
    private final boolean padToSquare;
    private final WeightStore towerStore;
    private final WeightSource towerSource;

    private LlavaVision(ClipVisionTower tower, Projector projector, boolean padToSquare, WeightStore towerStore,
                        WeightSource towerSource) {
        this.tower = tower;
        this.projector = projector;
        this.padToSquare = padToSquare;
        this.towerStore = towerStore;
        this.towerSource = towerSource;
    }

    /** True when config or tensors say this checkpoint is a LLaVA model. */
    static boolean isLlava(JsonNode config, WeightStore store) {
        return config.path("model_type").asText("").startsWith("llava")
                || config.path("architectures").path(0).asText("").startsWith("Llava")
                || store.has("model.mm_projector.weight") || store.has("model.mm_projector.0.weight");
    }

    /**
     * Loads tower and projector.
     *
     * @param towerDir {@code --vision-tower}, or null to use tensors inside the model or a local
     *     {@code mm_vision_tower} path
     * @param ownTower the store's source provides the tower ({@link WeightSource#ownsVisionTower()}):
     *     {@code towerDir} and {@code mm_vision_tower} are not consulted
     * @throws FormatException when no tower weights can be found
     */
    static LlavaVision load(JsonNode config, Path configFile, WeightStore store, Path towerDir, boolean ownTower, long hidden)
            throws IOException {
        String aspect = config.path("image_aspect_ratio").asText("square");
        String merge = config.path("mm_patch_merge_type").asText("flat");
        if (aspect.startsWith("anyres") || !merge.equals("flat")) {
            throw new FormatException(configFile, Kind.UNSUPPORTED, "LLaVA-1.6 image handling (image_aspect_ratio '" + aspect
                    + "', mm_patch_merge_type '" + merge + "') is not supported; verify runs LLaVA-1.5 (pad/square, flat)");
        }
        String towerName = config.path("mm_vision_tower").asText("").toLowerCase(java.util.Locale.ROOT);
        if (towerName.contains("intern")) {
            throw new FormatException(configFile, Kind.UNSUPPORTED, "InternViT vision towers are not supported (CLIP only)");
        }
        int select = config.path("mm_vision_select_layer").asInt(-2);
        String feature = config.path("mm_vision_select_feature").asText("patch");
        boolean pad = aspect.equals("pad");
        String projType = config.path("mm_projector_type").asText("linear");
        ClipVisionTower tower;
        WeightStore tStore = null;
        WeightSource tSource = null;
        Path dir = ownTower ? null : towerDir != null ? towerDir : localTower(config).orElse(null);
        if (dir == null && store.has(INNER_PREFIX + "embeddings.class_embedding")) {
            ClipConfig cc = config.has("vision_config") ? ClipConfig.parse(config, configFile) : ClipConfig.infer(store, INNER_PREFIX);
            tower = new ClipVisionTower(cc, store, INNER_PREFIX, select, feature);
        } else if (dir != null) {
            tSource = CheckpointSource.open(dir);
            boolean ok = false;
            try {
                tStore = new WeightStore(tSource, store.manager().newSubManager(), store.computeType());
                String prefix = tStore.has("vision_model.embeddings.class_embedding") ? "vision_model."
                        : "vision_tower.vision_model.";
                JsonNode tc = tSource.config().orElseThrow(() -> new FormatException(dir, Kind.MISSING_TENSOR,
                        "vision tower has no config.json"));
                tower = new ClipVisionTower(ClipConfig.parse(tc, dir.resolve("config.json")), tStore, prefix, select, feature);
                if (store.has(INNER_PREFIX + "embeddings.class_embedding")) {
                    store.tensorsWithPrefix(INNER_PREFIX).forEach(store::markIgnored); // superseded by --vision-tower
                }
                ok = true;
            } finally {
                if (!ok) {
                    if (tStore != null) {
                        tStore.close();
                    }
                    tSource.close();
                }
            }
        } else if (ownTower) {
            throw new FormatException(configFile, Kind.MISSING_TENSOR, "the model's own vision tower has no "
                    + INNER_PREFIX + "embeddings.class_embedding");
        } else {
            throw new FormatException(configFile, Kind.UNSUPPORTED, "LLaVA model without vision tower weights (mm_vision_tower '"
                    + config.path("mm_vision_tower").asText("?") + "' is not a local directory): pass --vision-tower DIR");
        }
        long visionHidden = config.path("mm_hidden_size").asLong(tower.config().hiddenSize());
        Projector projector = new Projector(projType, store, visionHidden, hidden);
        return new LlavaVision(tower, projector, pad, tStore, tSource);
    }

    private static Optional<Path> localTower(JsonNode config) {
        String name = config.path("mm_vision_tower").asText(config.path("vision_tower").asText(""));
        if (name.isEmpty()) {
            return Optional.empty();
        }
        try {
            Path p = Path.of(name);
            return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty(); // a hub id, not a path
        }
    }

    int imageSize() {
        return tower.config().imageSize();
    }

    boolean padToSquare() {
        return padToSquare;
    }

    /** Projected image features {@code [patches, hidden]} in the compute dtype, owned by the caller. */
    NDArray imageEmbeddings(float[] chw) {
        try (NDArray px = tower.pixels(chw); NDArray f = tower.features(px)) {
            return projector.project(f);
        }
    }

    @Override
    public void close() {
        if (towerStore != null) {
            towerStore.close();
        }
        if (towerSource != null) {
            towerSource.close();
        }
    }
}

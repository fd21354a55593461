package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.verify.ClipConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Plans the {@code mmproj} GGUF of a LLaVA-1.5 checkpoint: the CLIP vision tower and the
 * {@code mlp2x_gelu} projector under the names and keys llama.cpp's {@code clip.cpp} (mtmd) loads,
 * as {@code llava_surgery.py} + {@code convert_image_encoder_to_gguf.py} write them:
 * architecture {@code clip}, projector type {@code mlp}, the tower cut after the layer LLaVA reads
 * ({@code mm_vision_select_layer}, -2: the last block and {@code post_layernorm} dropped), that layer
 * also written as {@code clip.vision.feature_layer}. Types: with f16, 2-D and 4-D {@code .weight}
 * tensors (patch and position embeddings, projections, projector weights) are F16 and everything else
 * (biases, norms, class embedding) F32; with f32 everything is F32.
 */
public final class MmprojExport {
    /** Prefix of a CLIP tower saved inside a LLaVA checkpoint. */
    public static final String INNER_PREFIX = "model.vision_tower.vision_tower.vision_model.";
    static final float[] CLIP_MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    static final float[] CLIP_STD = {0.26862954f, 0.26130258f, 0.27577711f};

    /** A CLIP vision tower's hyper-parameters ({@code CLIPVisionConfig}); {@code inferred} when read from shapes. */
    public record ClipHparams(int hidden, int intermediate, int layers, int heads, int imageSize, int patchSize,
                              double layerNormEps, String hiddenAct, boolean inferred) {
    }

    private MmprojExport() {
    }

    /** True when the checkpoint is a LLaVA model (mm_* config fields or projector tensors). */
    public static boolean isLlava(Checkpoint ck) {
        Optional<ObjectNode> cfg = ck.config();
        if (cfg.isPresent() && (cfg.get().has("mm_projector_type") || cfg.get().has("mm_vision_tower")
                || cfg.get().has("mm_hidden_size"))) {
            return true;
        }
        return ck.tensors().stream().anyMatch(t -> t.name().startsWith("model.mm_projector."));
    }

    /** True when the tower tensors are stored inside the LLaVA checkpoint. */
    public static boolean hasInnerTower(Checkpoint ck) {
        return ck.tensor(INNER_PREFIX + "embeddings.patch_embedding.weight").isPresent();
    }

    /** {@code mm_vision_tower} when it names an existing local directory (not a hub id). */
    public static Optional<Path> localTower(ObjectNode cfg) {
        String name = cfg.path("mm_vision_tower").asText(cfg.path("vision_tower").asText(""));
        if (name.isEmpty()) {
            return Optional.empty();
        }
        try {
            Path p = Path.of(name);
            return Files.isDirectory(p) ? Optional.of(p) : Optional.empty();
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Plans the mmproj.
     *
     * @param llava the LLaVA checkpoint (projector tensors, mm_* config)
     * @param tower a CLIP checkpoint ({@code --vision-tower}), or null to use the tower inside {@code llava}
     * @throws FormatException for LLaVA variants llama.cpp's {@code mlp} projector cannot express, or missing parts
     */
    public static GgufExport.Plan plan(Checkpoint llava, Checkpoint tower, GgufExport.OutType out) throws IOException {
        Path cfgPath = llava.root().resolve("config.json");
        ObjectNode cfg = llava.config().orElseThrow(() -> new FormatException(llava.root(), Kind.MISSING_TENSOR,
                "no config.json: an mmproj export needs the LLaVA config"));
        checkSupported(cfg, cfgPath);
        Checkpoint src = tower != null ? tower : llava;
        String prefix = tower != null ? towerPrefix(tower) : INNER_PREFIX;
        if (src.tensor(prefix + "embeddings.patch_embedding.weight").isEmpty()) {
            throw new FormatException(src.root(), Kind.MISSING_TENSOR, tower != null
                    ? "no CLIP vision tower tensors (vision_model.embeddings.patch_embedding.weight) in " + tower.root()
                    : "LLaVA model without vision tower weights (mm_vision_tower '" + cfg.path("mm_vision_tower").asText("?")
                    + "' is not a local directory): pass --vision-tower DIR, or --no-mmproj for the language model only");
        }
        ClipHparams h = tower != null ? parse(tower) : cfg.has("vision_config")
                ? parse(cfg.get("vision_config"), cfgPath) : infer(llava, prefix);
        int select = cfg.path("mm_vision_select_layer").asInt(-2);
        int featureLayer = select >= 0 ? select : h.layers() + select + 1;
        if (featureLayer < 1 || featureLayer > h.layers()) {
            throw new FormatException(cfgPath, Kind.INVALID_VALUE, "mm_vision_select_layer " + select + " is outside the "
                    + h.layers() + "-layer vision tower");
        }
        int textHidden = cfg.path("hidden_size").asInt(0);
        int mmHidden = cfg.path("mm_hidden_size").asInt(h.hidden());
        if (mmHidden != h.hidden()) {
            throw new FormatException(cfgPath, Kind.MISMATCH, "mm_hidden_size " + mmHidden + " does not match the vision tower's hidden size "
                    + h.hidden());
        }
        boolean f32 = out == GgufExport.OutType.F32;
        List<String> notes = new ArrayList<>();
        if (out == GgufExport.OutType.BF16 || out == GgufExport.OutType.Q8_0) {
            notes.add("mmproj written as f16/f32 (llama.cpp's image encoder converter writes only f16 or f32)");
        }
        if (h.inferred()) {
            notes.add("vision tower config inferred from tensor shapes (" + h.heads() + " heads of 64, quick_gelu, eps 1e-5);"
                    + " pass --vision-tower DIR to use its config.json");
        }
        List<GgufExport.Entry> entries = new ArrayList<>();
        for (String part : new String[] {"0.weight", "0.bias", "2.weight", "2.bias"}) {
            String name = "model.mm_projector." + part;
            TensorInfo t = llava.tensor(name).orElseThrow(() -> new FormatException(llava.root(), Kind.MISSING_TENSOR,
                    "no " + name + " (an mlp2x_gelu projector needs mm_projector.0 and .2 weights and biases)"));
            if (part.equals("0.weight") && t.shape().rank() == 2 && t.shape().dim(1) != h.hidden()) {
                throw new FormatException(llava.root(), Kind.MISMATCH, name + " has " + t.shape().dim(1)
                        + " input columns, the vision tower's hidden size is " + h.hidden());
            }
            entries.add(entry(llava, t, ClipNames.projector(name).orElseThrow(), f32));
        }
        for (TensorInfo t : src.tensors()) {
            if (!t.name().startsWith(prefix)) {
                continue;
            }
            String rel = t.name().substring(prefix.length());
            if (ClipNames.towerDropped(rel) || ClipNames.towerLayer(rel) >= featureLayer) {
                continue;
            }
            String name = ClipNames.tower(rel).orElseThrow(() -> new FormatException(src.weightFileOf(t.name()).orElse(src.root()),
                    Kind.UNSUPPORTED, "vision tower tensor " + t.name() + " has no mmproj name (CLIP towers only)"));
            entries.add(entry(src, t, name, f32));
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.of("clip"));
        md.put("general.type", GgufValue.of("mmproj"));
        md.put("general.name", GgufValue.of(llava.root().getFileName().toString()));
        md.put("general.description", GgufValue.of("image encoder for LLaVA"));
        md.put("general.file_type", GgufValue.u32(f32 ? 0 : 1));
        md.put("clip.has_text_encoder", new GgufValue.Bool(false));
        md.put("clip.has_vision_encoder", new GgufValue.Bool(true));
        md.put("clip.has_llava_projector", new GgufValue.Bool(true));
        md.put("clip.projector_type", GgufValue.of("mlp"));
        md.put("clip.vision.image_size", GgufValue.u32(h.imageSize()));
        md.put("clip.vision.patch_size", GgufValue.u32(h.patchSize()));
        md.put("clip.vision.embedding_length", GgufValue.u32(h.hidden()));
        md.put("clip.vision.feed_forward_length", GgufValue.u32(h.intermediate()));
        md.put("clip.vision.projection_dim", GgufValue.u32(textHidden > 0 ? textHidden : h.hidden()));
        md.put("clip.vision.attention.head_count", GgufValue.u32(h.heads()));
        md.put("clip.vision.attention.layer_norm_epsilon", new GgufValue.Float32((float) h.layerNormEps()));
        md.put("clip.vision.block_count", GgufValue.u32(featureLayer));
        md.put("clip.vision.feature_layer", GgufValue.ints(new int[] {featureLayer}));
        float[][] norm = imageNorm(tower);
        md.put("clip.vision.image_mean", GgufValue.floats(norm[0]));
        md.put("clip.vision.image_std", GgufValue.floats(norm[1]));
        md.put("clip.use_gelu", new GgufValue.Bool(h.hiddenAct().equals("gelu")));
        return new GgufExport.Plan(md, entries, notes);
    }

    private static void checkSupported(ObjectNode cfg, Path cfgPath) throws FormatException {
        String proj = cfg.path("mm_projector_type").asText("linear");
        if (!proj.equals("mlp2x_gelu")) {
            throw new FormatException(cfgPath, Kind.UNSUPPORTED, "mm_projector_type " + proj + " has no llama.cpp mmproj form"
                    + " (its mlp projector is Linear-GELU-Linear: mlp2x_gelu only)");
        }
        String aspect = cfg.path("image_aspect_ratio").asText("square");
        String merge = cfg.path("mm_patch_merge_type").asText("flat");
        if (aspect.startsWith("anyres") || !merge.equals("flat")) {
            throw new FormatException(cfgPath, Kind.UNSUPPORTED, "LLaVA-1.6 image handling (image_aspect_ratio '" + aspect
                    + "', mm_patch_merge_type '" + merge + "') is not supported; mmproj export covers LLaVA-1.5");
        }
        String feature = cfg.path("mm_vision_select_feature").asText("patch");
        if (!feature.equals("patch")) {
            throw new FormatException(cfgPath, Kind.UNSUPPORTED, "mm_vision_select_feature " + feature
                    + " is not supported (llama.cpp's llava graph drops the class token: patch only)");
        }
        if (cfg.path("mm_vision_tower").asText("").toLowerCase(Locale.ROOT).contains("intern")) {
            throw new FormatException(cfgPath, Kind.UNSUPPORTED, "InternViT vision towers are not supported (CLIP only)");
        }
    }

    private static GgufExport.Entry entry(Checkpoint ck, TensorInfo t, String name, boolean f32) throws FormatException {
        if (!FloatCodec.supports(t.dtype())) {
            throw new FormatException(ck.root(), Kind.UNKNOWN_DTYPE, "tensor " + t.name() + " is " + t.dtype()
                    + "; GGUF export reads F32, F16, BF16 and F64");
        }
        long[] dims = t.shape().dims();
        GgmlType type = !f32 && dims.length >= 2 && name.endsWith(".weight") ? GgmlType.F16 : GgmlType.F32;
        int rowLength = dims.length == 0 ? 1 : Math.toIntExact(dims[dims.length - 1]);
        return new GgufExport.Entry(name, type, GgufTensorInfo.neOf(t.shape()),
                () -> RowSource.of(ck.view(t.name()), rowLength));
    }

    static String towerPrefix(Checkpoint tower) {
        for (String p : new String[] {"vision_model.", "vision_tower.vision_model.", INNER_PREFIX}) {
            if (tower.tensor(p + "embeddings.patch_embedding.weight").isPresent()) {
                return p;
            }
        }
        return "vision_model.";
    }

    private static ClipHparams parse(Checkpoint tower) throws IOException {
        ObjectNode c = tower.config().orElseThrow(() -> new FormatException(tower.root(), Kind.MISSING_TENSOR,
                "vision tower has no config.json"));
        return parse(c, tower.root().resolve("config.json"));
    }

    static ClipHparams parse(JsonNode config, Path file) throws FormatException {
        ClipConfig c = ClipConfig.parse(config, file); // the validation verify applies to the same file
        return new ClipHparams(c.hiddenSize(), c.intermediateSize(), c.layerCount(), c.headCount(), c.imageSize(),
                c.patchSize(), c.layerNormEps(), c.hiddenAct(), false);
    }

    /** Hyper-parameters of a tower saved without its config, from tensor shapes (64-wide heads, as CLIP uses). */
    static ClipHparams infer(Checkpoint ck, String prefix) throws FormatException {
        var patch = ck.tensor(prefix + "embeddings.patch_embedding.weight").orElseThrow().shape();
        var pos = ck.tensor(prefix + "embeddings.position_embedding.weight").orElseThrow(() -> new FormatException(ck.root(),
                Kind.MISSING_TENSOR, "no " + prefix + "embeddings.position_embedding.weight")).shape();
        var fc1 = ck.tensor(prefix + "encoder.layers.0.mlp.fc1.weight").orElseThrow(() -> new FormatException(ck.root(),
                Kind.MISSING_TENSOR, "no " + prefix + "encoder.layers.0.mlp.fc1.weight")).shape();
        if (patch.rank() != 4 || patch.dim(2) != patch.dim(3) || pos.rank() != 2 || pos.dim(0) < 2 || fc1.rank() != 2) {
            throw new FormatException(ck.root(), Kind.MISMATCH, prefix + "embeddings.patch_embedding.weight " + patch
                    + ", the position embedding " + pos + " and the first fc1 " + fc1 + " are not the shapes of a CLIP"
                    + " vision tower ([hidden, 3, p, p], [patches + 1, hidden], [inter, hidden])");
        }
        int hidden = (int) patch.dim(0);
        int p = (int) patch.dim(patch.rank() - 1);
        int grid = (int) Math.round(Math.sqrt(pos.dim(0) - 1));
        if (grid * grid != pos.dim(0) - 1) {
            throw new FormatException(ck.root(), Kind.MISMATCH, prefix + "embeddings.position_embedding.weight has "
                    + pos.dim(0) + " rows, expected 1 + a square number of patches");
        }
        int layers = 0;
        while (ck.tensor(prefix + "encoder.layers." + layers + ".mlp.fc1.weight").isPresent()) {
            layers++;
        }
        return new ClipHparams(hidden, (int) fc1.dim(0), layers, Math.max(1, hidden / 64), grid * p, p, 1e-5, "quick_gelu", true);
    }

    /** image_mean/image_std from the tower's {@code preprocessor_config.json}, else OpenAI CLIP's. */
    private static float[][] imageNorm(Checkpoint tower) throws IOException {
        if (tower != null) {
            Optional<ObjectNode> pp = tower.json("preprocessor_config.json");
            if (pp.isPresent() && pp.get().path("image_mean").size() == 3 && pp.get().path("image_std").size() == 3) {
                float[] mean = new float[3];
                float[] std = new float[3];
                for (int i = 0; i < 3; i++) {
                    mean[i] = (float) pp.get().get("image_mean").get(i).asDouble();
                    std[i] = (float) pp.get().get("image_std").get(i).asDouble();
                }
                return new float[][] {mean, std};
            }
        }
        return new float[][] {CLIP_MEAN.clone(), CLIP_STD.clone()};
    }
}

package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.verify.PlannedSource;
import dev.ckpt.verify.VisionPairSource;
import dev.ckpt.verify.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An mmproj GGUF (CLIP vision tower + LLaVA {@code mlp} projector, as {@link MmprojExport} and
 * llama.cpp's converters write it) read back as the vision part of a LLaVA checkpoint, so the
 * verifier runs the image path on exactly the weights the file holds: names mapped back with
 * {@link ClipNames#toHf} (tower under {@link MmprojExport#INNER_PREFIX}), every tensor dequantized
 * to F32 on first use, and the LLaVA config fields rebuilt from the {@code clip.*} keys.
 *
 * <p>MmprojExport changes no layout: GGUF's reversed dims ({@code ne}) are the only difference, and
 * {@link GgufTensorInfo#shape()} undoes them (the patch embedding's {@code ne [p, p, 3, hidden]} is
 * HF's {@code [hidden, 3, p, p]}). The one layout this class undoes is the legacy converter's: it
 * named {@code fc1} {@code ffn_down} and {@code fc2} {@code ffn_up}, which clip.cpp detects by
 * shape, and so does this class.
 */
public final class MmprojSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What an mmproj holds.
     *
     * @param tensors under their HF LLaVA names, each recipe decoding to F32
     * @param config the LLaVA config fields the keys imply, to lay over the language model's config
     */
    record Vision(List<PlannedTensor> tensors, ObjectNode config) {
    }

    private MmprojSource() {
    }

    /**
     * Opens the vision half alone (for {@link VisionPairSource}); the returned source owns the file.
     *
     * @param preprocessing a config to take {@code image_aspect_ratio} and {@code mm_use_im_start_end}
     *     from (prompt and image handling, which GGUF does not record), or null for LLaVA-1.5's pad / false
     * @throws FormatException when the file is not a CLIP mmproj GGUF, or lacks or mis-shapes a tensor its keys need
     */
    public static WeightSource open(Path mmproj, JsonNode preprocessing) throws IOException {
        GgufFile f = GgufFile.open(mmproj);
        try {
            Vision v = plan(f, preprocessing);
            return new PlannedSource(mmproj, v.tensors(), v.config(), f);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * A language GGUF and its mmproj as one LLaVA model (a {@link VisionPairSource}), checked to fit
     * together and, when {@code reference} is a LLaVA checkpoint directory, to have the reference's vision tensors
     * and shapes ({@link MmprojMatch}).
     *
     * @param reference the checkpoint both files were made from (its tokenizer and preprocessing settings
     *     are used, its vision tensors compared by shape), or null
     * @param visionTower the reference's separate CLIP tower checkpoint, or null
     * @throws FormatException (exit 3) when the files do not fit together or do not match the reference
     */
    public static WeightSource openPair(Path model, Path mmproj, Path reference, Path visionTower) throws IOException {
        Path refDir = reference != null && Files.isDirectory(reference) ? reference : null;
        JsonNode refConfig = refDir != null && Files.isRegularFile(refDir.resolve("config.json"))
                ? JSON.readTree(refDir.resolve("config.json").toFile()) : null;
        WeightSource language = GgufSource.open(model, refDir);
        WeightSource vision;
        try {
            vision = open(mmproj, refConfig);
        } catch (IOException | RuntimeException e) {
            language.close();
            throw e;
        }
        WeightSource pair = new VisionPairSource(language, vision); // closes both when it throws
        try {
            requireProjectorFits(pair, mmproj, model);
            if (refDir != null && MmprojMatch.isLlava(refDir)) { // a LoRA or delta reference's base may be a plain Llama
                MmprojMatch.requireMatches(vision.tensors(), mmproj, refDir, visionTower);
            }
            return pair;
        } catch (IOException | RuntimeException e) {
            pair.close();
            throw e;
        }
    }

    /** The projector must output the language model's embedding width: else the files are from two models. */
    private static void requireProjectorFits(WeightSource pair, Path mmproj, Path model) throws FormatException {
        long hidden = pair.config().orElseThrow().path("hidden_size").asLong(0);
        Shape out = pair.tensors().stream().filter(t -> t.name().equals("model.mm_projector.2.weight")).findFirst()
                .orElseThrow().shape();
        if (hidden > 0 && out.dim(0) != hidden) {
            throw new FormatException(mmproj, Kind.MISMATCH, "the projector outputs " + out.dim(0) + " features (mm.2.weight) but "
                    + model.getFileName() + " embeds tokens in " + hidden + ": the two files are not one model; pass the mmproj"
                    + " written with this language model");
        }
    }

    /** Maps, checks and plans the tensors of {@code f}, and rebuilds the LLaVA config fields from its keys. */
    static Vision plan(GgufFile f, JsonNode preprocessing) throws FormatException {
        Path file = f.path();
        String arch = f.value("general.architecture").map(v -> v instanceof GgufValue.Str s ? s.value() : "").orElse("");
        if (!arch.equals("clip")) {
            throw new FormatException(file, Kind.UNSUPPORTED, "general.architecture is \"" + arch + "\", not an mmproj (clip) GGUF:"
                    + " pass the .mmproj.gguf that `ckpt convert --to gguf` wrote beside the language model");
        }
        if (f.value("clip.has_vision_encoder").orElse(new GgufValue.Bool(true)) instanceof GgufValue.Bool b && !b.value()) {
            throw new FormatException(file, Kind.UNSUPPORTED, "clip.has_vision_encoder is false: no vision tower to verify");
        }
        String projector = f.value("clip.projector_type").map(v -> v instanceof GgufValue.Str s ? s.value() : "?").orElse("mlp");
        if (!projector.equals("mlp")) {
            throw new FormatException(file, Kind.UNSUPPORTED, "clip.projector_type is \"" + projector + "\"; verify runs LLaVA-1.5's"
                    + " mlp (mlp2x_gelu) projector only");
        }
        int h = key(f, "clip.vision.embedding_length");
        int ff = key(f, "clip.vision.feed_forward_length");
        int heads = key(f, "clip.vision.attention.head_count");
        int blocks = key(f, "clip.vision.block_count");
        int image = key(f, "clip.vision.image_size");
        int patch = key(f, "clip.vision.patch_size");
        if (image % patch != 0 || h % heads != 0) {
            throw new FormatException(file, Kind.INVALID_VALUE, "clip.vision.image_size " + image + " is not a multiple of patch_size "
                    + patch + ", or embedding_length " + h + " of head_count " + heads);
        }
        int featureLayer = featureLayer(f, blocks);
        boolean swapped = f.ggufTensor("v.blk.0.ffn_up.weight").map(t -> h != ff && t.shape().dim(0) == h).orElse(false);
        List<PlannedTensor> tensors = new ArrayList<>();
        Map<String, String> gguf = new LinkedHashMap<>();
        Map<String, Shape> shapes = new HashMap<>();
        for (GgufTensorInfo t : f.ggufTensors()) {
            String rel = ClipNames.toHf(t.name()).orElseThrow(() -> new FormatException(file, Kind.UNSUPPORTED, "tensor " + t.name()
                    + " is not part of a CLIP vision tower or mlp projector (LLaVA-1.5 mmproj files only)"));
            if (swapped) { // legacy naming: ffn_down holds fc1 (the up projection), ffn_up holds fc2
                rel = rel.contains(".mlp.fc1.") ? rel.replace(".mlp.fc1.", ".mlp.fc2.") : rel.replace(".mlp.fc2.", ".mlp.fc1.");
            }
            String name = rel.startsWith("model.") ? rel : MmprojExport.INNER_PREFIX + rel;
            gguf.put(name, t.name());
            shapes.put(name, t.shape());
            tensors.add(new PlannedTensor(new TensorInfo(name, DType.F32, t.shape()), GgufImport.decode(f, t, DType.F32, null)));
        }
        requireShapes(file, expected(h, ff, blocks, patch, image / patch), shapes, gguf, blocks);
        Shape p0 = require(file, shapes, "model.mm_projector.0.weight", "mm.0.weight");
        Shape p2 = require(file, shapes, "model.mm_projector.2.weight", "mm.2.weight");
        Map<String, Shape> projector0 = new LinkedHashMap<>();
        projector0.put("model.mm_projector.0.weight", Shape.of(p0.dim(0), h));
        projector0.put("model.mm_projector.0.bias", Shape.of(p0.dim(0)));
        projector0.put("model.mm_projector.2.weight", Shape.of(p2.dim(0), p0.dim(0)));
        projector0.put("model.mm_projector.2.bias", Shape.of(p2.dim(0)));
        requireShapes(file, projector0, shapes, gguf, blocks);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.putArray("architectures").add("LlavaLlamaForCausalLM");
        cfg.put("model_type", "llava").put("mm_projector_type", "mlp2x_gelu").put("mm_hidden_size", h)
                .put("mm_vision_select_layer", featureLayer).put("mm_vision_select_feature", "patch").put("mm_patch_merge_type", "flat");
        JsonNode pre = preprocessing == null ? JSON.createObjectNode() : preprocessing;
        cfg.put("image_aspect_ratio", pre.path("image_aspect_ratio").asText("pad"));
        cfg.put("mm_use_im_start_end", pre.path("mm_use_im_start_end").asBoolean(false));
        boolean gelu = f.value("clip.use_gelu").orElse(new GgufValue.Bool(false)) instanceof GgufValue.Bool g && g.value();
        cfg.putObject("vision_config").put("hidden_size", h).put("intermediate_size", ff).put("num_hidden_layers", blocks)
                .put("num_attention_heads", heads).put("image_size", image).put("patch_size", patch)
                .put("layer_norm_eps", f.value("clip.vision.attention.layer_norm_epsilon").map(GgufValue::asDouble).orElse(1e-5))
                .put("hidden_act", gelu ? "gelu" : "quick_gelu");
        return new Vision(tensors, cfg);
    }

    /** The tower tensors (HF names) and shapes the keys imply; the projector is checked separately. */
    private static Map<String, Shape> expected(int h, int ff, int blocks, int patch, int grid) {
        Map<String, Shape> m = new LinkedHashMap<>();
        String p = MmprojExport.INNER_PREFIX;
        m.put(p + "embeddings.class_embedding", Shape.of(h));
        m.put(p + "embeddings.patch_embedding.weight", Shape.of(h, 3, patch, patch));
        m.put(p + "embeddings.position_embedding.weight", Shape.of((long) grid * grid + 1, h));
        m.put(p + "pre_layrnorm.weight", Shape.of(h));
        m.put(p + "pre_layrnorm.bias", Shape.of(h));
        for (int i = 0; i < blocks; i++) {
            String b = p + "encoder.layers." + i + ".";
            for (String n : new String[] {"layer_norm1", "layer_norm2"}) {
                m.put(b + n + ".weight", Shape.of(h));
                m.put(b + n + ".bias", Shape.of(h));
            }
            for (String n : new String[] {"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.put(b + "self_attn." + n + ".weight", Shape.of(h, h));
                m.put(b + "self_attn." + n + ".bias", Shape.of(h));
            }
            m.put(b + "mlp.fc1.weight", Shape.of(ff, h));
            m.put(b + "mlp.fc1.bias", Shape.of(ff));
            m.put(b + "mlp.fc2.weight", Shape.of(h, ff));
            m.put(b + "mlp.fc2.bias", Shape.of(h));
        }
        return m;
    }

    private static void requireShapes(Path file, Map<String, Shape> expected, Map<String, Shape> shapes, Map<String, String> gguf,
                                      int blocks) throws FormatException {
        for (var e : expected.entrySet()) {
            Shape s = shapes.get(e.getKey());
            String name = gguf.getOrDefault(e.getKey(), ggufName(e.getKey()));
            if (s == null) {
                throw new FormatException(file, Kind.MISSING_TENSOR, "no tensor " + name + ", which a " + blocks + "-block CLIP tower"
                        + " with an mlp projector needs (clip.vision.block_count " + blocks + "): the file is incomplete;"
                        + " re-export it with `ckpt convert LLAVA_DIR --to gguf`");
            }
            if (!s.equals(e.getValue())) {
                throw new FormatException(file, Kind.MISMATCH, "tensor " + name + " is " + s + " (HF order) but the clip.vision.* keys"
                        + " imply " + e.getValue() + ": the file is inconsistent; re-export it with `ckpt convert LLAVA_DIR --to gguf`");
            }
        }
    }

    private static Shape require(Path file, Map<String, Shape> shapes, String name, String ggufName) throws FormatException {
        Shape s = shapes.get(name);
        if (s == null || s.rank() != 2) {
            throw new FormatException(file, Kind.MISSING_TENSOR, (s == null ? "no tensor " : "tensor is not 2-D: ") + ggufName
                    + " (an mlp projector needs mm.0 and mm.2 weights and biases); re-export it with `ckpt convert LLAVA_DIR --to gguf`");
        }
        return s;
    }

    /** The mmproj name of an HF LLaVA vision name (for messages about tensors the file lacks). */
    static String ggufName(String hf) {
        if (hf.startsWith(MmprojExport.INNER_PREFIX)) {
            return ClipNames.tower(hf.substring(MmprojExport.INNER_PREFIX.length())).orElse(hf);
        }
        return ClipNames.projector(hf).orElse(hf);
    }

    /** {@code clip.vision.feature_layer} (the hidden state LLaVA reads: blocks run), else every block. */
    private static int featureLayer(GgufFile f, int blocks) throws FormatException {
        GgufValue v = f.metadata().get("clip.vision.feature_layer");
        if (v == null) {
            return blocks; // the legacy converter cut the tower instead: run every block in the file
        }
        long layer = v instanceof GgufValue.Array a && a.items().size() == 1 ? a.items().getFirst().asLong() : -1;
        if (layer < 1 || layer > blocks) {
            throw new FormatException(f.path(), Kind.INVALID_VALUE, "clip.vision.feature_layer must be one layer in 1.." + blocks
                    + " (clip.vision.block_count); LLaVA-1.5 reads a single hidden state");
        }
        return (int) layer;
    }

    private static int key(GgufFile f, String key) throws FormatException {
        GgufValue v = f.metadata().get(key);
        try {
            long n = v == null ? 0 : v.asLong();
            if (n > 0 && n <= Integer.MAX_VALUE) {
                return (int) n;
            }
        } catch (IllegalStateException e) {
            // not an integer: reported below like a missing key
        }
        throw new FormatException(f.path(), Kind.INVALID_VALUE, "key " + key + " is missing or not a positive integer: not an mmproj"
                + " written by ckpt or llama.cpp's LLaVA converters");
    }
}

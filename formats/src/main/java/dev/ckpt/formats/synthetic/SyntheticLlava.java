package dev.ckpt.formats.synthetic;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds random-weight LLaVA-1.5 checkpoints ({@code LlavaLlamaForCausalLM}): a {@link SyntheticLlama}
 * language model, an {@code mlp2x_gelu} projector ({@code model.mm_projector.0/2}) and a CLIP vision
 * tower saved inside the model under {@code model.vision_tower.vision_tower.vision_model.}, as
 * DeepSpeed and LLaVA's {@code merge_lora_weights.py} save it. The config carries the {@code mm_*}
 * fields of a released LLaVA-1.5 config and, like those, no {@code vision_config}: readers infer the
 * tower's shape from its tensors, with 64-wide heads as CLIP-L has. Deterministic, like SyntheticLlama.
 */
public final class SyntheticLlava {
    /** Where a tower saved inside a LLaVA checkpoint lives. */
    public static final String TOWER_PREFIX = "model.vision_tower.vision_tower.vision_model.";

    /**
     * Shape of the model. The tower's heads are {@code visionHidden / 64} (nothing else records them);
     * the image is {@code patchSize * gridSize} pixels square and yields {@code gridSize²} patches.
     *
     * @param language the language model; its seed and dtypes also drive the vision part
     */
    public record Options(SyntheticLlama.Options language, int visionHidden, int visionIntermediate, int visionLayers,
                          int patchSize, int gridSize) {
        public Options {
            if (visionHidden <= 0 || visionHidden % 64 != 0) {
                throw new IllegalArgumentException("visionHidden must be a positive multiple of 64 (heads are inferred as 64 wide)");
            }
            if (visionIntermediate <= 0 || patchSize <= 0 || gridSize <= 0) {
                throw new IllegalArgumentException("vision dimensions must be positive");
            }
            if (visionLayers < 2) {
                throw new IllegalArgumentException("LLaVA reads the second-to-last CLIP block: visionLayers must be at least 2");
            }
        }

        /**
         * The demo's model: the tiny Llama (hidden 64, 2 layers, 2 shards) in f16 as LLaVA-1.5 releases
         * are, and a CLIP tower of hidden 128 (2 heads), 3 blocks, 16×16 images in 4×4 patches (16 patches).
         */
        public static Options tiny() {
            return new Options(SyntheticLlama.Options.tiny().withSeed(15).withDtypes(SyntheticLlama.Dtypes.F16), 128, 256, 3, 4, 4);
        }

        /** Image side in pixels. */
        public int imageSize() {
            return patchSize * gridSize;
        }

        /** Image patches the tower turns into projected features (its class token is dropped: {@code patch}). */
        public int patchCount() {
            return gridSize * gridSize;
        }
    }

    private SyntheticLlava() {
    }

    /** Writes the checkpoint into {@code outDir} (which must not exist), with one thread per processor. */
    public static WriteReport write(Path outDir, Options o) throws IOException {
        List<PlannedTensor> plan = tensors(o);
        SyntheticLlama.Options lm = o.language();
        long max = lm.shardCount() > 0
                ? SyntheticLlama.maxShardBytesFor(plan.stream().map(PlannedTensor::info).toList(), lm.shardCount())
                : lm.maxShardBytes();
        return CheckpointWriter.write(outDir, plan, sideFiles(o), new WriteOptions(max, false, 0), ProgressListener.NONE);
    }

    /**
     * The tensors: the language model's, with the vision tower and the projector before {@code lm_head}
     * (the order of LLaVA's state dict: everything under {@code model.} first).
     */
    public static List<PlannedTensor> tensors(Options o) {
        List<PlannedTensor> language = SyntheticLlama.tensors(o.language());
        List<PlannedTensor> out = new ArrayList<>(language.subList(0, language.size() - 1));
        addTower(out, o);
        int text = o.language().hiddenSize();
        add(out, o, "model.mm_projector.0.weight", false, o.visionHidden(), text, o.visionHidden());
        add(out, o, "model.mm_projector.0.bias", false, o.visionHidden(), text);
        add(out, o, "model.mm_projector.2.weight", false, text, text, text);
        add(out, o, "model.mm_projector.2.bias", false, text, text);
        out.add(language.getLast()); // lm_head.weight
        return out;
    }

    /** CLIPVisionModel's tensors (without the {@code position_ids} buffer, which newer transformers do not save). */
    private static void addTower(List<PlannedTensor> out, Options o) {
        int h = o.visionHidden();
        int p = o.patchSize();
        String v = TOWER_PREFIX;
        add(out, o, v + "embeddings.class_embedding", false, h, h);
        add(out, o, v + "embeddings.patch_embedding.weight", false, 3 * p * p, h, 3, p, p); // conv: fan-in 3·p·p
        add(out, o, v + "embeddings.position_embedding.weight", false, h, o.patchCount() + 1, h);
        addLayerNorm(out, o, v + "pre_layrnorm.");
        for (int i = 0; i < o.visionLayers(); i++) {
            String b = v + "encoder.layers." + i + ".";
            for (String proj : List.of("k_proj", "v_proj", "q_proj", "out_proj")) {
                add(out, o, b + "self_attn." + proj + ".weight", false, h, h, h);
                add(out, o, b + "self_attn." + proj + ".bias", false, h, h);
            }
            addLayerNorm(out, o, b + "layer_norm1.");
            add(out, o, b + "mlp.fc1.weight", false, h, o.visionIntermediate(), h);
            add(out, o, b + "mlp.fc1.bias", false, h, o.visionIntermediate());
            add(out, o, b + "mlp.fc2.weight", false, o.visionIntermediate(), h, o.visionIntermediate());
            add(out, o, b + "mlp.fc2.bias", false, o.visionIntermediate(), h);
            addLayerNorm(out, o, b + "layer_norm2.");
        }
        addLayerNorm(out, o, v + "post_layernorm.");
    }

    private static void addLayerNorm(List<PlannedTensor> out, Options o, String prefix) {
        int h = o.visionHidden();
        add(out, o, prefix + "weight", true, 0, h);
        add(out, o, prefix + "bias", true, 0, h);
    }

    /**
     * One tensor uniform in ±1/sqrt({@code fanIn}) (biases and embeddings scaled by their consumer's
     * fan-in, so activations stay O(1) through the tower); layer-norm weights 1 ± 0.1, their biases ± 0.1.
     * Norm parameters take the norm dtype ({@link SyntheticLlama.Dtypes#MIXED}: F32).
     */
    private static void add(List<PlannedTensor> out, Options o, String name, boolean norm, int fanIn, long... dims) {
        TensorInfo info = new TensorInfo(name, o.language().dtypes().of(norm), Shape.of(dims));
        long seed = o.language().seed() ^ SyntheticLlama.fnv1a(name);
        boolean normWeight = norm && name.endsWith(".weight");
        float scale = norm ? 0.1f : (float) (1 / Math.sqrt(fanIn));
        out.add(new PlannedTensor(info, SyntheticLlama.uniform(info.dtype(), info.elementCount(), seed, normWeight ? 1f : 0f, scale)));
    }

    /** config.json (LLaVA's), generation_config.json and the tokenizer files of the language model. */
    public static List<SideFile> sideFiles(Options o) {
        List<SideFile> files = new ArrayList<>();
        files.add(SideFile.Bytes.utf8("config.json", SyntheticTokenizer.pretty(config(o))));
        SyntheticLlama.sideFiles(o.language()).stream().filter(f -> !f.name().equals("config.json")).forEach(files::add);
        return files;
    }

    /**
     * The Llama config with the fields a released LLaVA-1.5 config adds: architecture and model type,
     * the {@code mm_*} settings (projector, tower name, layer -2, patch features, pad to square).
     * {@code mm_vision_tower} names the hub tower as the releases do; the tower inside the checkpoint
     * is what readers use, since that name is not a local directory.
     */
    public static ObjectNode config(Options o) {
        ObjectNode c = SyntheticLlama.config(o.language());
        c.putArray("architectures").add("LlavaLlamaForCausalLM");
        c.put("model_type", "llava");
        c.put("freeze_mm_mlp_adapter", false).put("image_aspect_ratio", "pad").put("mm_hidden_size", o.visionHidden());
        c.putNull("mm_projector_lr");
        c.put("mm_projector_type", "mlp2x_gelu").put("mm_use_im_patch_token", false);
        c.put("mm_use_im_start_end", false).put("mm_vision_select_feature", "patch").put("mm_vision_select_layer", -2);
        c.put("mm_vision_tower", "openai/clip-vit-large-patch14-336").put("tune_mm_mlp_adapter", false);
        c.put("use_mm_proj", true);
        return c;
    }
}

package dev.ckpt.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Test fixture: tiny random-weight Llama and LLaVA checkpoints in the Hugging Face layout
 * (config.json, tokenizer.json, model.safetensors), deterministic from a seed. The returned
 * weights are the stored values (rounded to the dtype) for use by the plain-Java oracles.
 */
public final class TinyModels {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Llama shape; {@code ropeScaling} is null, "linear" or "dynamic" (factor 2). */
    public record LlamaSpec(int hidden, int intermediate, int layers, int heads, int kvHeads, boolean tied, String dtype,
                     String ropeScaling, double ropeTheta, long seed) {
        public static LlamaSpec small() {
            return new LlamaSpec(64, 96, 2, 4, 2, false, "F32", null, 10000, 7);
        }
    }

    /** CLIP tower shape for LLaVA fixtures (image = grid * patch pixels per side). */
    public record ClipSpec(int hidden, int intermediate, int layers, int heads, int patch, int grid) {
        public static ClipSpec small() {
            return new ClipSpec(128, 96, 3, 2, 4, 3); // 64-wide heads, as inferred for towers without a config
        }
    }

    private TinyModels() {
    }

    /** The fixture vocabulary: specials, 256 byte pieces, single characters, then merges in rank order. */
    public static List<String> vocab() {
        List<String> v = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            v.add(String.format("<0x%02X>", b));
        }
        for (char c : "\u2581abcdefghijklmnopqrstuvwxyzTFCWH,.?!\n".toCharArray()) {
            v.add(String.valueOf(c));
        }
        v.addAll(merges().stream().map(m -> m.replace(" ", "")).toList());
        return v;
    }

    static List<String> merges() {
        return List.of("\u2581 t", "h e", "\u2581t he", "a p", "i t", "\u2581 c", "a l", "\u2581 i", "\u2581 o", "\u2581 F",
                "r a", "n c", "e s", "\u2581c ap", "\u2581i s", "\u2581o f", "\u2581F ra", "\u2581Fra nc",
                "\u2581Franc e", "it al");
    }

    public static Map<String, float[]> writeLlama(Path dir, LlamaSpec s) throws IOException {
        Files.createDirectories(dir);
        int vocab = vocab().size();
        ObjectNode cfg = llamaConfig(s, vocab);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        writeTokenizer(dir);
        Random r = new Random(s.seed());
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        int d = s.hidden() / s.heads();
        add(t, r, "model.embed_tokens.weight", 0.5f, vocab, s.hidden());
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            addNorm(t, r, p + "input_layernorm.weight", s.hidden());
            add(t, r, p + "self_attn.q_proj.weight", 0.2f, s.heads() * d, s.hidden());
            add(t, r, p + "self_attn.k_proj.weight", 0.2f, s.kvHeads() * d, s.hidden());
            add(t, r, p + "self_attn.v_proj.weight", 0.2f, s.kvHeads() * d, s.hidden());
            add(t, r, p + "self_attn.o_proj.weight", 0.2f, s.hidden(), s.heads() * d);
            addNorm(t, r, p + "post_attention_layernorm.weight", s.hidden());
            add(t, r, p + "mlp.gate_proj.weight", 0.2f, s.intermediate(), s.hidden());
            add(t, r, p + "mlp.up_proj.weight", 0.2f, s.intermediate(), s.hidden());
            add(t, r, p + "mlp.down_proj.weight", 0.2f, s.hidden(), s.intermediate());
        }
        addNorm(t, r, "model.norm.weight", s.hidden());
        if (!s.tied()) {
            add(t, r, "lm_head.weight", 0.3f, vocab, s.hidden());
        }
        return finish(dir, t, s.dtype());
    }

    /** A LLaVA checkpoint: the Llama above plus an mlp2x_gelu projector and a CLIP tower inside the model. */
    public static Map<String, float[]> writeLlava(Path dir, LlamaSpec s, ClipSpec c, boolean towerInside, Path towerDir) throws IOException {
        Map<String, float[]> w = new LinkedHashMap<>(writeLlama(dir, s));
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        cfg.putArray("architectures").add("LlavaLlamaForCausalLM");
        cfg.put("model_type", "llava");
        cfg.put("mm_projector_type", "mlp2x_gelu").put("mm_hidden_size", c.hidden()).put("mm_vision_select_layer", -2)
                .put("mm_vision_select_feature", "patch").put("mm_use_im_start_end", false).put("image_aspect_ratio", "pad")
                .put("mm_vision_tower", "openai/clip-vit-large-patch14-336");
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        Random r = new Random(s.seed() + 1);
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        for (var e : w.entrySet()) {
            t.put(e.getKey(), new SafetensorsBytes.Tensor(shapeOf(dir, e.getKey()), e.getValue()));
        }
        add(t, r, "model.mm_projector.0.weight", 0.3f, s.hidden(), c.hidden());
        add(t, r, "model.mm_projector.0.bias", 0.1f, s.hidden());
        add(t, r, "model.mm_projector.2.weight", 0.3f, s.hidden(), s.hidden());
        add(t, r, "model.mm_projector.2.bias", 0.1f, s.hidden());
        Map<String, SafetensorsBytes.Tensor> tower = clipTensors(r, c);
        if (towerInside) {
            tower.forEach((k, v) -> t.put("model.vision_tower.vision_tower." + k, v));
        }
        if (towerDir != null) {
            Files.createDirectories(towerDir);
            ObjectNode tc = JSON.createObjectNode();
            tc.putArray("architectures").add("CLIPVisionModel");
            tc.put("model_type", "clip_vision_model").put("hidden_size", c.hidden()).put("intermediate_size", c.intermediate())
                    .put("num_hidden_layers", c.layers()).put("num_attention_heads", c.heads())
                    .put("image_size", c.patch() * c.grid()).put("patch_size", c.patch()).put("layer_norm_eps", 1e-5)
                    .put("hidden_act", "quick_gelu");
            JSON.writeValue(towerDir.resolve("config.json").toFile(), tc);
            SafetensorsBytes.write(towerDir.resolve("model.safetensors"), tower, s.dtype());
        }
        Files.delete(dir.resolve("model.safetensors"));
        Map<String, float[]> all = finish(dir, t, s.dtype());
        tower.forEach((k, v) -> all.put("tower." + k, roundAll(v.values(), s.dtype())));
        return all;
    }

    private static Map<String, SafetensorsBytes.Tensor> clipTensors(Random r, ClipSpec c) {
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        String v = "vision_model.";
        int h = c.hidden();
        add(t, r, v + "embeddings.class_embedding", 0.5f, h);
        add(t, r, v + "embeddings.patch_embedding.weight", 0.3f, h, 3, c.patch(), c.patch());
        add(t, r, v + "embeddings.position_embedding.weight", 0.3f, c.grid() * c.grid() + 1, h);
        addNorm(t, r, v + "pre_layrnorm.weight", h);
        add(t, r, v + "pre_layrnorm.bias", 0.1f, h);
        for (int j = 0; j < c.layers(); j++) {
            String b = v + "encoder.layers." + j + ".";
            addNorm(t, r, b + "layer_norm1.weight", h);
            add(t, r, b + "layer_norm1.bias", 0.1f, h);
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                add(t, r, b + "self_attn." + proj + ".weight", 0.25f, h, h);
                add(t, r, b + "self_attn." + proj + ".bias", 0.1f, h);
            }
            addNorm(t, r, b + "layer_norm2.weight", h);
            add(t, r, b + "layer_norm2.bias", 0.1f, h);
            add(t, r, b + "mlp.fc1.weight", 0.25f, c.intermediate(), h);
            add(t, r, b + "mlp.fc1.bias", 0.1f, c.intermediate());
            add(t, r, b + "mlp.fc2.weight", 0.25f, h, c.intermediate());
            add(t, r, b + "mlp.fc2.bias", 0.1f, h);
        }
        addNorm(t, r, v + "post_layernorm.weight", h);
        add(t, r, v + "post_layernorm.bias", 0.1f, h);
        return t;
    }

    static ObjectNode llamaConfig(LlamaSpec s, int vocab) {
        ObjectNode cfg = JSON.createObjectNode();
        cfg.putArray("architectures").add("LlamaForCausalLM");
        cfg.put("model_type", "llama").put("hidden_size", s.hidden()).put("intermediate_size", s.intermediate())
                .put("num_hidden_layers", s.layers()).put("num_attention_heads", s.heads())
                .put("num_key_value_heads", s.kvHeads()).put("vocab_size", vocab).put("rms_norm_eps", 1e-5)
                .put("rope_theta", s.ropeTheta()).put("max_position_embeddings", 16).put("tie_word_embeddings", s.tied())
                .put("bos_token_id", 1).put("eos_token_id", 2).put("hidden_act", "silu")
                .put("torch_dtype", s.dtype().equals("F32") ? "float32" : s.dtype().equals("F16") ? "float16" : "bfloat16");
        if (s.ropeScaling() != null) {
            cfg.putObject("rope_scaling").put("type", s.ropeScaling()).put("factor", 2.0);
        } else {
            cfg.putNull("rope_scaling");
        }
        return cfg;
    }

    static void writeTokenizer(Path dir) throws IOException {
        List<String> vocab = vocab();
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0").putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < 3; i++) {
            added.addObject().put("id", i).put("content", vocab.get(i)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
        ns.addObject().put("type", "Replace").put("content", "\u2581").putObject("pattern").put("String", " ");
        root.putNull("pre_tokenizer");
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject("<s>").put("id", "<s>");
        st.putArray("ids").add(1);
        st.putArray("tokens").add("<s>");
        ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
        ArrayNode ds = dec.putArray("decoders");
        ds.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "\u2581");
        ds.addObject().put("type", "ByteFallback");
        ds.addObject().put("type", "Fuse");
        ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        ArrayNode m = model.putArray("merges");
        merges().forEach(m::add);
        JSON.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        ObjectNode tc = JSON.createObjectNode().put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>")
                .put("add_bos_token", true).put("add_eos_token", false).put("model_max_length", 2048)
                .put("tokenizer_class", "LlamaTokenizer");
        tc.putNull("pad_token");
        JSON.writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
    }

    private static long[] shapeOf(Path dir, String name) throws IOException {
        try (CheckpointSource s = CheckpointSource.open(dir)) {
            return s.view(name).info().shape().dims();
        }
    }

    private static Map<String, float[]> finish(Path dir, Map<String, SafetensorsBytes.Tensor> t, String dtype) throws IOException {
        SafetensorsBytes.write(dir.resolve("model.safetensors"), t, dtype);
        Map<String, float[]> out = new LinkedHashMap<>();
        t.forEach((k, v) -> out.put(k, roundAll(v.values(), dtype)));
        return out;
    }

    static float[] roundAll(float[] v, String dtype) {
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = SafetensorsBytes.round(v[i], dtype);
        }
        return o;
    }

    private static void add(Map<String, SafetensorsBytes.Tensor> t, Random r, String name, float scale, long... shape) {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        t.put(name, new SafetensorsBytes.Tensor(shape, v));
    }

    private static void addNorm(Map<String, SafetensorsBytes.Tensor> t, Random r, String name, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 1f + (float) (r.nextGaussian() * 0.1);
        }
        t.put(name, new SafetensorsBytes.Tensor(new long[] {n}, v));
    }
}

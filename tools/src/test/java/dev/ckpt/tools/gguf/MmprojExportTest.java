package dev.ckpt.tools.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.numeric.F16;
import dev.ckpt.verify.TinyModels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LLaVA -> language model GGUF + mmproj GGUF (names, keys, types, bytes), and the refusals. */
class MmprojExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TinyModels.ClipSpec CLIP = TinyModels.ClipSpec.small(); // 3 layers, hidden 128, ff 96, patch 4, grid 3
    private static final TinyModels.LlamaSpec LLM = TinyModels.LlamaSpec.small(); // hidden 64

    @TempDir
    Path dir;

    private static GgufConvertTest.Run ckpt(String... args) {
        return GgufConvertTest.ckpt(args);
    }

    /**
     * The tensors clip.cpp's llava graph reads for a CLIP tower cut at {@code layers} blocks with an
     * mlp2x_gelu projector ({@code clip-impl.h} TN_* names), with their ggml ne.
     */
    static Map<String, long[]> expectedTensors(int layers) {
        int h = CLIP.hidden();
        int ff = CLIP.intermediate();
        int p = CLIP.patch();
        var m = new java.util.LinkedHashMap<String, long[]>();
        m.put("mm.0.weight", new long[] {h, LLM.hidden()});
        m.put("mm.0.bias", new long[] {LLM.hidden()});
        m.put("mm.2.weight", new long[] {LLM.hidden(), LLM.hidden()});
        m.put("mm.2.bias", new long[] {LLM.hidden()});
        m.put("v.class_embd", new long[] {h});
        m.put("v.patch_embd.weight", new long[] {p, p, 3, h});
        m.put("v.position_embd.weight", new long[] {h, CLIP.grid() * CLIP.grid() + 1});
        m.put("v.pre_ln.weight", new long[] {h});
        m.put("v.pre_ln.bias", new long[] {h});
        for (int i = 0; i < layers; i++) {
            String b = "v.blk." + i + ".";
            for (String n : List.of("ln1", "ln2")) {
                m.put(b + n + ".weight", new long[] {h});
                m.put(b + n + ".bias", new long[] {h});
            }
            for (String n : List.of("attn_q", "attn_k", "attn_v", "attn_out")) {
                m.put(b + n + ".weight", new long[] {h, h});
                m.put(b + n + ".bias", new long[] {h});
            }
            m.put(b + "ffn_up.weight", new long[] {h, ff}); // ne[0] = n_embd: not the legacy swapped naming
            m.put(b + "ffn_up.bias", new long[] {ff});
            m.put(b + "ffn_down.weight", new long[] {ff, h});
            m.put(b + "ffn_down.bias", new long[] {h});
        }
        return m;
    }

    /** The HF source name of an mmproj tensor in a fixture's weight map. */
    static String sourceOf(String gguf) {
        if (gguf.startsWith("mm.")) {
            return "model.mm_projector." + gguf.substring(3);
        }
        String v = "tower.vision_model.";
        return switch (gguf) {
            case "v.class_embd" -> v + "embeddings.class_embedding";
            case "v.patch_embd.weight" -> v + "embeddings.patch_embedding.weight";
            case "v.position_embd.weight" -> v + "embeddings.position_embedding.weight";
            case "v.pre_ln.weight" -> v + "pre_layrnorm.weight";
            case "v.pre_ln.bias" -> v + "pre_layrnorm.bias";
            default -> {
                String[] s = gguf.split("\\.");
                String part = switch (s[3]) {
                    case "ln1" -> "layer_norm1";
                    case "ln2" -> "layer_norm2";
                    case "attn_out" -> "self_attn.out_proj";
                    case "ffn_up" -> "mlp.fc1";
                    case "ffn_down" -> "mlp.fc2";
                    default -> "self_attn." + s[3].substring(5) + "_proj";
                };
                yield v + "encoder.layers." + s[2] + "." + part + "." + s[4];
            }
        };
    }

    static float[] floats(GgufFile f, GgufTensorInfo t) {
        MemorySegment b = f.bytes(t.name());
        int n = Math.toIntExact(t.type() == GgmlType.F32 ? b.byteSize() / 4 : b.byteSize() / 2);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = t.type() == GgmlType.F32 ? b.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i)
                    : F16.toFloat(b.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
        }
        return out;
    }

    private static String str(GgufFile f, String key) {
        return ((GgufValue.Str) f.metadata().get(key)).value();
    }

    @Test
    void towerInsideModelGoesToMmprojWithLlamaCppNamesKeysAndExactBytes() throws Exception {
        Path src = dir.resolve("llava");
        Map<String, float[]> w = TinyModels.writeLlava(src, LLM, CLIP, true, null);
        Path out = dir.resolve("model.gguf");
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Path mm = dir.resolve("model.mmproj.gguf");
        assertTrue(r.out().contains("mmproj"), r.out());
        assertFalse(r.out().contains("are not in this file"), r.out());
        try (GgufFile lm = GgufFile.open(out)) {
            assertTrue(lm.ggufTensors().stream().noneMatch(t -> t.name().startsWith("v.") || t.name().startsWith("mm.")));
            assertEquals("llama", str(lm, "general.architecture"));
        }
        try (GgufFile f = GgufFile.open(mm)) {
            assertEquals("clip", str(f, "general.architecture"));
            assertEquals("mmproj", str(f, "general.type"));
            assertEquals("mlp", str(f, "clip.projector_type"));
            assertEquals(List.of("general.architecture", "general.type", "general.name", "general.description",
                    "general.file_type", "clip.has_text_encoder", "clip.has_vision_encoder", "clip.has_llava_projector",
                    "clip.projector_type", "clip.vision.image_size", "clip.vision.patch_size", "clip.vision.embedding_length",
                    "clip.vision.feed_forward_length", "clip.vision.projection_dim", "clip.vision.attention.head_count",
                    "clip.vision.attention.layer_norm_epsilon", "clip.vision.block_count", "clip.vision.feature_layer",
                    "clip.vision.image_mean", "clip.vision.image_std", "clip.use_gelu"), List.copyOf(f.metadata().keySet()));
            assertEquals(0L, f.metadata().get("general.file_type").asLong());
            assertEquals((long) CLIP.patch() * CLIP.grid(), f.metadata().get("clip.vision.image_size").asLong());
            assertEquals(CLIP.patch(), f.metadata().get("clip.vision.patch_size").asLong());
            assertEquals(CLIP.hidden(), f.metadata().get("clip.vision.embedding_length").asLong());
            assertEquals(CLIP.intermediate(), f.metadata().get("clip.vision.feed_forward_length").asLong());
            assertEquals(LLM.hidden(), f.metadata().get("clip.vision.projection_dim").asLong());
            assertEquals(CLIP.heads(), f.metadata().get("clip.vision.attention.head_count").asLong());
            assertEquals(CLIP.layers() - 1, f.metadata().get("clip.vision.block_count").asLong()); // select_layer -2
            GgufValue.Array fl = (GgufValue.Array) f.metadata().get("clip.vision.feature_layer");
            assertEquals(List.of(new GgufValue.Int32(CLIP.layers() - 1)), fl.items());
            assertEquals(new GgufValue.Float32(0.48145466f), ((GgufValue.Array) f.metadata().get("clip.vision.image_mean")).items().get(0));
            assertEquals(new GgufValue.Bool(false), f.metadata().get("clip.use_gelu")); // quick_gelu
            Map<String, long[]> expected = expectedTensors(CLIP.layers() - 1);
            List<String> names = f.ggufTensors().stream().map(GgufTensorInfo::name).toList();
            assertEquals(List.copyOf(expected.keySet()).stream().sorted().toList(), names.stream().sorted().toList());
            for (GgufTensorInfo t : f.ggufTensors()) {
                assertArrayEquals(expected.get(t.name()), t.ne(), t.name());
                assertEquals(GgmlType.F32, t.type(), t.name());
                assertArrayEquals(w.get(sourceOf(t.name())), floats(f, t), t.name() + " bytes");
            }
        }
    }

    @Test
    void f16KeepsBiasesNormsAndClassEmbeddingF32AsLlamaCppsConverter() throws Exception {
        Path src = dir.resolve("llava");
        Map<String, float[]> w = TinyModels.writeLlava(src, LLM, CLIP, true, null);
        Path out = dir.resolve("lm.gguf");
        Path mm = dir.resolve("vision.gguf");
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "f16", "--out", out.toString(),
                "--mmproj-out", mm.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(dir.resolve("lm.mmproj.gguf")));
        try (GgufFile f = GgufFile.open(mm)) {
            assertEquals(1L, f.metadata().get("general.file_type").asLong());
            for (GgufTensorInfo t : f.ggufTensors()) {
                boolean half = t.ne().length >= 2 && t.name().endsWith(".weight");
                assertEquals(half ? GgmlType.F16 : GgmlType.F32, t.type(), t.name());
                float[] source = w.get(sourceOf(t.name()));
                float[] expected = new float[source.length];
                for (int i = 0; i < source.length; i++) {
                    expected[i] = half ? F16.toFloat(F16.fromFloat(source[i])) : source[i];
                }
                assertArrayEquals(expected, floats(f, t), t.name());
            }
            assertEquals(GgmlType.F16, f.ggufTensor("v.patch_embd.weight").orElseThrow().type());
            assertEquals(GgmlType.F16, f.ggufTensor("v.position_embd.weight").orElseThrow().type());
            assertEquals(GgmlType.F32, f.ggufTensor("v.class_embd").orElseThrow().type());
        }
    }

    @Test
    void separateVisionTowerDirWithItsConfigAndPreprocessor() throws Exception {
        Path src = dir.resolve("llava");
        Path tower = dir.resolve("clip");
        Map<String, float[]> w = TinyModels.writeLlava(src, LLM, CLIP, false, tower);
        ObjectNode pp = JSON.createObjectNode();
        pp.putArray("image_mean").add(0.5).add(0.5).add(0.5);
        pp.putArray("image_std").add(0.25).add(0.25).add(0.25);
        JSON.writeValue(tower.resolve("preprocessor_config.json").toFile(), pp);
        Path out = dir.resolve("m.gguf");
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", out.toString());
        assertEquals(3, r.code(), "no tower inside and mm_vision_tower is a hub id: " + r.out());
        assertTrue(r.err().contains("--vision-tower"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));
        r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", out.toString(), "--no-mmproj");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(dir.resolve("m.mmproj.gguf")));
        assertTrue(r.out().contains("note: LLaVA vision tower and projector (4 tensors) are not in this file"), r.out());
        try (GgufFile lm = GgufFile.open(out)) {
            assertTrue(lm.ggufTensors().stream().noneMatch(t -> t.name().startsWith("mm.")));
        }
        r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", out.toString(), "--force",
                "--vision-tower", tower.toString());
        assertEquals(0, r.code(), r.err());
        try (GgufFile f = GgufFile.open(dir.resolve("m.mmproj.gguf"))) {
            assertEquals(new GgufValue.Float32(0.25f), ((GgufValue.Array) f.metadata().get("clip.vision.image_std")).items().get(1));
            assertEquals(1e-5f, ((GgufValue.Float32) f.metadata().get("clip.vision.attention.layer_norm_epsilon")).value());
            assertEquals(expectedTensors(CLIP.layers() - 1).size(), f.ggufTensors().size());
            for (GgufTensorInfo t : f.ggufTensors()) {
                assertArrayEquals(w.get(sourceOf(t.name())), floats(f, t), t.name());
            }
        }
        r = ckpt("inspect", "--json", dir.resolve("m.mmproj.gguf").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("GGUF_MMPROJ", JSON.readTree(r.out()).get("kind").asText());
        r = ckpt("inspect", "--json", out.toString());
        assertEquals("GGUF", JSON.readTree(r.out()).get("kind").asText());
    }

    @Test
    void clipModelStyleVisionConfigAndGeluTowerAndQ8LanguageModel() throws Exception {
        Path src = dir.resolve("llava");
        Path tower = dir.resolve("clip");
        TinyModels.writeLlava(src, LLM, CLIP, false, tower);
        ObjectNode vision = (ObjectNode) JSON.readTree(tower.resolve("config.json").toFile());
        vision.put("hidden_act", "gelu").put("layer_norm_eps", 1e-6);
        ObjectNode two = JSON.createObjectNode();
        two.putArray("architectures").add("CLIPModel");
        two.set("vision_config", vision);
        two.putObject("text_config").put("hidden_size", 32);
        JSON.writeValue(tower.resolve("config.json").toFile(), two);
        Path out = dir.resolve("q.gguf");
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--type", "q8_0", "--out", out.toString(),
                "--vision-tower", tower.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("mmproj written as f16"), r.out());
        try (GgufFile f = GgufFile.open(dir.resolve("q.mmproj.gguf")); GgufFile lm = GgufFile.open(out)) {
            assertEquals(new GgufValue.Bool(true), f.metadata().get("clip.use_gelu"));
            assertEquals(1e-6f, ((GgufValue.Float32) f.metadata().get("clip.vision.attention.layer_norm_epsilon")).value());
            assertEquals(GgmlType.F16, f.ggufTensor("v.blk.0.attn_q.weight").orElseThrow().type());
            assertEquals(GgmlType.Q8_0, lm.ggufTensor("blk.0.attn_q.weight").orElseThrow().type());
        }
    }

    @Test
    void selectLayerMinusOneKeepsEveryBlock() throws Exception {
        Path src = dir.resolve("llava");
        TinyModels.writeLlava(src, LLM, CLIP, true, null);
        editConfig(src, c -> c.put("mm_vision_select_layer", -1));
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--out", dir.resolve("x.gguf").toString());
        assertEquals(0, r.code(), r.err());
        try (GgufFile f = GgufFile.open(dir.resolve("x.mmproj.gguf"))) {
            assertEquals(CLIP.layers(), f.metadata().get("clip.vision.block_count").asLong());
            assertTrue(f.ggufTensor("v.blk." + (CLIP.layers() - 1) + ".ffn_down.weight").isPresent());
            assertTrue(f.ggufTensor("v.post_ln.weight").isEmpty());
        }
    }

    @Test
    void unsupportedLlavaVariantsFailWithOneLineAndWriteNothing() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"mm_projector_type", "linear", "mlp2x_gelu only"});
        cases.add(new String[] {"image_aspect_ratio", "anyres", "LLaVA-1.6"});
        cases.add(new String[] {"mm_vision_select_feature", "cls_patch", "patch only"});
        for (String[] c : cases) {
            Path src = dir.resolve("llava-" + c[0]);
            TinyModels.writeLlava(src, LLM, CLIP, true, null);
            editConfig(src, cfg -> cfg.put(c[0], c[1]));
            Path out = dir.resolve(c[0] + ".gguf");
            GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--out", out.toString());
            assertEquals(3, r.code(), c[0] + ": " + r.err());
            assertTrue(r.err().startsWith("ckpt: ") && r.err().contains(c[2]), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out));
            assertFalse(Files.exists(dir.resolve(c[0] + ".mmproj.gguf")));
        }
    }

    @Test
    void mmprojOptionsOnAPlainLlamaAreAUsageError() throws Exception {
        Path src = dir.resolve("llama");
        TinyModels.writeLlama(src, LLM);
        GgufConvertTest.Run r = ckpt("convert", src.toString(), "--to", "gguf", "--out", dir.resolve("a.gguf").toString(),
                "--mmproj-out", dir.resolve("b.gguf").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("not a LLaVA model"), r.err());
    }

    private static void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        ObjectNode cfg = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(cfg);
        JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
    }
}

package dev.ckpt.tools.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.verify.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ckpt verify model.gguf --mmproj model.mmproj.gguf --reference LLAVA}: the LLaVA smoke pass runs
 * the image path on the mmproj's tower and projector; a round trip passes, a corrupted vision weight
 * fails the comparison (exit 5), and an mmproj that is incomplete, from another model or not an mmproj
 * (or checked against a reference that is not LLaVA) fails before running with one line (exit 3).
 */
class MmprojVerifyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TinyModels.ClipSpec CLIP = TinyModels.ClipSpec.small();
    private static final TinyModels.LlamaSpec LLM = TinyModels.LlamaSpec.small();

    @TempDir
    static Path dir;
    static Path src;
    static Path model;
    static Path mmproj;

    @BeforeAll
    static void convert() throws Exception {
        src = dir.resolve("llava");
        TinyModels.writeLlava(src, LLM, CLIP, true, null);
        model = dir.resolve("model.gguf");
        GgufConvertTest.Run r = GgufConvertTest.ckpt("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", model.toString());
        assertThat(r.code()).as(r.err()).isZero();
        mmproj = dir.resolve("model.mmproj.gguf");
    }

    private static GgufConvertTest.Run verify(Path mm, String... more) {
        List<String> args = new ArrayList<>(List.of("verify", model.toString(), "--reference", src.toString(), "--device", "cpu",
                "--tokens", "2", "--threads", "1", "--json"));
        if (mm != null) {
            args.addAll(List.of("--mmproj", mm.toString()));
        }
        args.addAll(List.of(more));
        return GgufConvertTest.ckpt(args.toArray(String[]::new));
    }

    private static Path copy(String name) throws Exception {
        Path p = dir.resolve(name);
        Files.copy(mmproj, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return p;
    }

    @Test
    void roundTripRunsTheImagePathOnTheMmprojAndPasses() throws Exception {
        GgufConvertTest.Run r = verify(mmproj);
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("passed").asBoolean()).isTrue();
        assertThat(j.get("architecture").asText()).isEqualTo("LlavaLlamaForCausalLM");
        List<Integer> ids = new ArrayList<>();
        j.get("promptIds").forEach(n -> ids.add(n.asInt()));
        assertThat(ids).contains(-200); // the image token: the prompt carries the image
        assertThat(j.get("prefillTokens").asInt()).isEqualTo(ids.size() - 1 + CLIP.grid() * CLIP.grid());
        int tensors;
        try (GgufFile lm = GgufFile.open(model); GgufFile mm = GgufFile.open(mmproj)) {
            tensors = lm.ggufTensors().size() + mm.ggufTensors().size();
        }
        assertThat(j.get("tensorCount").asInt()).isEqualTo(tensors);
        JsonNode c = j.get("comparison");
        assertThat(c.get("reference").asText()).isEqualTo(src.toString());
        assertThat(c.get("top1Agreement").asDouble()).isEqualTo(1.0);
        assertThat(c.get("maxAbsLogitDelta").asDouble()).isLessThan(1e-2);

        GgufConvertTest.Run text = verify(null); // without --mmproj: the language model alone, text prompt, as before
        assertThat(text.code()).as(text.err()).isZero();
        JsonNode t = JSON.readTree(text.out());
        assertThat(t.get("architecture").asText()).isEqualTo("LlamaForCausalLM");
        List<Integer> textIds = new ArrayList<>();
        t.get("promptIds").forEach(n -> textIds.add(n.asInt()));
        assertThat(textIds).doesNotContain(-200);
    }

    @Test
    void aSeparateVisionTowerIsTheReferencesAndTheMmprojIsCheckedAgainstIt() throws Exception {
        Path llava = dir.resolve("llava-sep");
        Path tower = dir.resolve("clip-sep");
        TinyModels.writeLlava(llava, LLM, CLIP, false, tower);
        Path out = dir.resolve("sep.gguf");
        GgufConvertTest.Run r = GgufConvertTest.ckpt("convert", llava.toString(), "--to", "gguf", "--type", "f32", "--out", out.toString(),
                "--vision-tower", tower.toString(), "--verify", "--verify-device", "cpu", "--verify-tokens", "2");
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        assertThat(r.out()).contains("verification: PASS vs " + llava).contains("(LlavaLlamaForCausalLM, ");
        r = GgufConvertTest.ckpt("verify", out.toString(), "--mmproj", dir.resolve("sep.mmproj.gguf").toString(), "--reference",
                llava.toString(), "--vision-tower", tower.toString(), "--device", "cpu", "--tokens", "2");
        assertThat(r.code()).as(r.err()).isZero();
        Path zeroed = dir.resolve("sep-zeroed.mmproj.gguf"); // --vision-tower feeds the reference only: the pair runs the mmproj's tower
        Files.copy(dir.resolve("sep.mmproj.gguf"), zeroed);
        MmprojFiles.scale(zeroed, "v.blk.0.attn_v.weight", 0);
        r = GgufConvertTest.ckpt("verify", out.toString(), "--mmproj", zeroed.toString(), "--reference", llava.toString(),
                "--vision-tower", tower.toString(), "--device", "cpu", "--tokens", "2");
        assertThat(r.code()).as(r.err()).isEqualTo(5);
        MmprojFiles.drop(dir.resolve("sep.mmproj.gguf"), "v.pre_ln.bias");
        r = GgufConvertTest.ckpt("verify", out.toString(), "--mmproj", dir.resolve("sep.mmproj.gguf").toString(), "--reference",
                llava.toString(), "--vision-tower", tower.toString(), "--device", "cpu", "--tokens", "2");
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("no tensor v.pre_ln.bias");
    }

    @Test
    void legacySwappedFfnNamesAreRecognisedByShape() throws Exception {
        Path legacy = copy("legacy.gguf"); // convert_image_encoder_to_gguf.py named fc1 ffn_down and fc2 ffn_up
        Map<String, String> swap = new HashMap<>();
        for (int i = 0; i < CLIP.layers() - 1; i++) {
            for (String s : List.of(".weight", ".bias")) {
                swap.put("v.blk." + i + ".ffn_up" + s, "v.blk." + i + ".ffn_down" + s);
                swap.put("v.blk." + i + ".ffn_down" + s, "v.blk." + i + ".ffn_up" + s);
            }
        }
        MmprojFiles.rename(legacy, swap);
        GgufConvertTest.Run r = verify(legacy);
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        assertThat(JSON.readTree(r.out()).get("comparison").get("top1Agreement").asDouble()).isEqualTo(1.0);
    }

    @Test
    void aZeroedOrScaledVisionWeightFailsTheComparison() throws Exception {
        for (String[] c : new String[][] {{"v.blk.0.attn_v.weight", "0"}, {"v.patch_embd.weight", "0"},
            {"mm.0.weight", "0"}, {"v.blk.1.ffn_down.weight", "1.1"}}) {
            Path bad = copy("bad-" + c[0] + ".gguf");
            MmprojFiles.scale(bad, c[0], Float.parseFloat(c[1]));
            GgufConvertTest.Run r = verify(bad);
            assertThat(r.code()).as(c[0] + ": " + r.err()).isEqualTo(5);
            assertThat(r.err().strip().lines()).as(r.err()).singleElement().asString().startsWith("ckpt: verification failed: ");
            assertThat(r.err()).containsAnyOf("max-abs-logit-delta", "top1-agreement", "kl-divergence");
            assertThat(JSON.readTree(r.out()).get("comparison").get("maxAbsLogitDelta").asDouble()).as(c[0]).isGreaterThan(1e-2);
        }
    }

    @Test
    void aMissingTensorIsBadInputNamingIt() throws Exception {
        Path bad = copy("missing.gguf");
        MmprojFiles.drop(bad, "v.blk.1.attn_k.weight");
        GgufConvertTest.Run r = verify(bad);
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).singleElement().asString()
                .startsWith("ckpt: missing.gguf: no tensor v.blk.1.attn_k.weight").contains("re-export");
    }

    @Test
    void inconsistentKeysAreBadInput() throws Exception {
        Path bad = copy("keys.gguf");
        MmprojFiles.setKey(bad, "clip.vision.feed_forward_length", GgufValue.u32(CLIP.intermediate() * 2));
        GgufConvertTest.Run r = verify(bad);
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).singleElement().asString().contains("v.blk.0.ffn_up.weight is [96, 128]");
    }

    @Test
    void anMmprojOfAnotherModelIsBadInputNamingTheFirstDifference() throws Exception {
        Path other = dir.resolve("other");
        TinyModels.writeLlava(other, LLM, new TinyModels.ClipSpec(CLIP.hidden(), 64, CLIP.layers(), CLIP.heads(), CLIP.patch(),
                CLIP.grid()), true, null);
        Path otherModel = dir.resolve("other.gguf");
        GgufConvertTest.Run c = GgufConvertTest.ckpt("convert", other.toString(), "--to", "gguf", "--type", "f32", "--out",
                otherModel.toString());
        assertThat(c.code()).as(c.err()).isZero();
        GgufConvertTest.Run r = verify(dir.resolve("other.mmproj.gguf"));
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).singleElement().asString()
                .contains("tensor v.blk.0.ffn_up.weight is [64, 128] (HF order) but the reference's")
                .contains("not made from " + src);

        Path all = dir.resolve("all-blocks"); // same weights, exported with every block (mm_vision_select_layer -1)
        TinyModels.writeLlava(all, LLM, CLIP, true, null);
        JsonNode cfg = JSON.readTree(all.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg).put("mm_vision_select_layer", -1);
        JSON.writeValue(all.resolve("config.json").toFile(), cfg);
        c = GgufConvertTest.ckpt("convert", all.toString(), "--to", "gguf", "--type", "f32", "--out", dir.resolve("all.gguf").toString());
        assertThat(c.code()).as(c.err()).isZero();
        r = verify(dir.resolve("all.mmproj.gguf"));
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("tensor v.blk.2.ln1.weight has no counterpart the reference's LLaVA runs");
    }

    @Test
    void notAnMmprojOrNotALlavaReferenceIsBadInputAndMmprojWithoutAGgufIsUsage() throws Exception {
        GgufConvertTest.Run r = verify(model);
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).singleElement().asString()
                .isEqualTo("ckpt: model.gguf: general.architecture is \"llama\", not an mmproj (clip) GGUF: pass the .mmproj.gguf"
                        + " that `ckpt convert --to gguf` wrote beside the language model");
        Path llama = dir.resolve("plain-llama");
        TinyModels.writeLlama(llama, LLM);
        GgufConvertTest.Run p = GgufConvertTest.ckpt("verify", model.toString(), "--mmproj", mmproj.toString(), "--reference",
                llama.toString(), "--device", "cpu");
        assertThat(p.code()).as(p.err()).isEqualTo(3);
        assertThat(p.err().strip().lines()).singleElement().asString().contains("is not a LLaVA model")
                .endsWith("verify the language GGUF without --mmproj");
        GgufConvertTest.Run u = GgufConvertTest.ckpt("verify", src.toString(), "--mmproj", mmproj.toString(), "--device", "cpu");
        assertThat(u.code()).as(u.err()).isEqualTo(2);
        assertThat(u.err()).contains("--mmproj pairs a vision GGUF with a language model .gguf");
    }
}

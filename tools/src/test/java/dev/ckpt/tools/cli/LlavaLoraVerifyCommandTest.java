package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.ops.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code merge-lora --verify} on a LLaVA LoRA folder (adapter + {@code non_lora_trainables} with the
 * projector under PeftModel keys + the run's LLaVA {@code config.json}) over a tiny LLaVA base with
 * its CLIP tower inside (LLaVA's {@code finetune_task_lora} setting): the reference runs the base
 * with the renamed trainables as its projector, the LoRA folder's config and the LoRA at run time.
 * The output with the base's projector put back (trainables ignored) exits 5.
 */
class LlavaLoraVerifyCommandTest {
    @TempDir
    static Path tmp;
    static Path base;
    static final int H = 64;
    static final int CLIP = 128;
    static final Random R = new Random(9);

    @BeforeAll
    static void model() throws Exception {
        base = tmp.resolve("llava-base");
        SyntheticLlama.Options o = SyntheticLlama.Options.tiny().withSeed(5);
        List<PlannedTensor> t = new ArrayList<>(SyntheticLlama.tensors(o));
        projector(t, "model.mm_projector.");
        String v = "model.vision_tower.vision_tower.vision_model.";
        int patch = 4;
        int grid = 3;
        t.add(f32(v + "embeddings.class_embedding", 0.5f, CLIP));
        t.add(f32(v + "embeddings.patch_embedding.weight", 0.3f, CLIP, 3, patch, patch));
        t.add(f32(v + "embeddings.position_embedding.weight", 0.3f, grid * grid + 1, CLIP));
        t.add(f32(v + "pre_layrnorm.weight", 0.1f, CLIP));
        t.add(f32(v + "pre_layrnorm.bias", 0.1f, CLIP));
        for (int j = 0; j < 3; j++) {
            String b = v + "encoder.layers." + j + ".";
            for (String n : List.of("layer_norm1", "layer_norm2")) {
                t.add(f32(b + n + ".weight", 0.1f, CLIP));
                t.add(f32(b + n + ".bias", 0.1f, CLIP));
            }
            for (String p : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                t.add(f32(b + "self_attn." + p + ".weight", 0.25f, CLIP, CLIP));
                t.add(f32(b + "self_attn." + p + ".bias", 0.1f, CLIP));
            }
            t.add(f32(b + "mlp.fc1.weight", 0.25f, 96, CLIP));
            t.add(f32(b + "mlp.fc1.bias", 0.1f, 96));
            t.add(f32(b + "mlp.fc2.weight", 0.25f, CLIP, 96));
            t.add(f32(b + "mlp.fc2.bias", 0.1f, CLIP));
        }
        t.add(f32(v + "post_layernorm.weight", 0.1f, CLIP));
        t.add(f32(v + "post_layernorm.bias", 0.1f, CLIP));
        List<SideFile> sides = new ArrayList<>(SyntheticLlama.sideFiles(o).stream().filter(s -> !s.name().equals("config.json")).toList());
        sides.add(SideFile.Bytes.utf8("config.json", llavaConfig(o).toPrettyString()));
        CheckpointWriter.write(base, t, sides, new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 1), ProgressListener.NONE);
    }

    static ObjectNode llavaConfig(SyntheticLlama.Options o) {
        ObjectNode c = SyntheticLlama.config(o);
        c.putArray("architectures").add("LlavaLlamaForCausalLM");
        c.put("model_type", "llava").put("mm_projector_type", "mlp2x_gelu").put("mm_hidden_size", CLIP)
                .put("mm_vision_select_layer", -2).put("mm_vision_select_feature", "patch").put("mm_use_im_start_end", false)
                .put("mm_use_im_patch_token", false).put("image_aspect_ratio", "pad")
                .put("mm_vision_tower", "openai/clip-vit-large-patch14-336");
        return c;
    }

    @Test
    void llavaLoraFolderVerifiesAndIgnoredTrainablesExitFive() throws Exception {
        Path lora = tmp.resolve("llava-v1.5-tiny-lora");
        List<Fixtures.T> adapter = new ArrayList<>();
        for (String m : List.of("model.layers.0.self_attn.q_proj", "model.layers.1.mlp.up_proj")) {
            boolean up = m.endsWith("up_proj");
            adapter.add(gauss("base_model.model." + m + ".lora_A.weight", 0.3f, 8, H));
            adapter.add(gauss("base_model.model." + m + ".lora_B.weight", 0.3f, up ? 172 : H, 8));
        }
        List<Fixtures.T> trainables = new ArrayList<>(); // saved from the PeftModel: base_model.model.model.mm_projector.*
        String p = "base_model.model.model.mm_projector.";
        trainables.add(gauss(p + "0.weight", 0.3f, H, CLIP));
        trainables.add(gauss(p + "0.bias", 0.1f, H));
        trainables.add(gauss(p + "2.weight", 0.3f, H, H));
        trainables.add(gauss(p + "2.bias", 0.1f, H));
        ObjectNode runConfig = llavaConfig(SyntheticLlama.Options.tiny().withSeed(5));
        Fixtures.adapter(lora, """
                {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "bias": "none",
                 "target_modules": ["q_proj", "up_proj"]}""", adapter, trainables, runConfig);

        Path out = tmp.resolve("merged");
        CliRunner ok = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", lora.toString(), "--out", out.toString(),
                "--verify", "--verify-device", "cpu", "--json");
        assertThat(ok.exitCode()).as(ok.err() + ok.out()).isZero();
        JsonNode v = new ObjectMapper().readTree(ok.out()).get("verification");
        assertThat(v.get("passed").asBoolean()).as(v.toPrettyString()).isTrue();
        assertThat(v.get("architecture").asText()).isEqualTo("LlavaLlamaForCausalLM");
        assertThat(v.get("comparison").get("maxAbsLogitDelta").asDouble()).isLessThan(0.1);

        Path wrong = tmp.resolve("merged-base-projector");
        VerifyMixin.testHook = o -> LoraKindsVerifyCommandTest.restore(base, o, "model.mm_projector.2.weight");
        try {
            CliRunner bad = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", lora.toString(), "--out", wrong.toString(),
                    "--verify", "--verify-device", "cpu");
            assertThat(bad.exitCode()).as(bad.out()).isEqualTo(5);
            List<String> errors = bad.err().strip().lines().filter(l -> !l.startsWith("ckpt: note: ")).toList(); // plan notes
            assertThat(errors).singleElement().asString().startsWith("ckpt: verification of " + wrong + " failed: max-abs-logit-delta");
        } finally {
            VerifyMixin.testHook = null;
        }
    }

    private static void projector(List<PlannedTensor> t, String p) {
        t.add(f32(p + "0.weight", 0.3f, H, CLIP));
        t.add(f32(p + "0.bias", 0.1f, H));
        t.add(f32(p + "2.weight", 0.3f, H, H));
        t.add(f32(p + "2.bias", 0.1f, H));
    }

    private static PlannedTensor f32(String name, float scale, long... dims) {
        TensorInfo info = new TensorInfo(name, DType.F32, Shape.of(dims));
        float[] v = new float[Math.toIntExact(info.elementCount())];
        boolean norm = name.contains("norm") && name.endsWith(".weight");
        for (int i = 0; i < v.length; i++) {
            v[i] = (norm ? 1f : 0f) + (float) (R.nextGaussian() * scale);
        }
        return new PlannedTensor(info, target -> FloatCodec.encode(v, 0, v.length, DType.F32, target, 0));
    }

    private static Fixtures.T gauss(String name, float scale, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (R.nextGaussian() * scale);
        }
        return Fixtures.T.of(name, DType.F32, dims, v);
    }
}

package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.ops.Fixtures;
import dev.ckpt.tools.ops.Fixtures.T;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** apply-delta, make-delta and merge-lora through the CLI: output text, JSON and exit codes. */
class DeltaLoraCommandsTest {
    @TempDir
    Path tmp;
    Path base;
    Path target;

    @BeforeEach
    void models() throws Exception {
        base = tmp.resolve("base");
        target = tmp.resolve("target");
        SyntheticLlama.write(base, SyntheticLlama.Options.tiny().withSeed(1));
        SyntheticLlama.write(target, SyntheticLlama.Options.tiny().withSeed(2));
    }

    @Test
    void makeThenApplyDelta() throws Exception {
        Path delta = tmp.resolve("delta");
        CliRunner m = CliRunner.run("make-delta", "--base", base.toString(), "--target", target.toString(), "--out", delta.toString());
        assertThat(m.exitCode()).as(m.err()).isZero();
        assertThat(m.out()).contains("wrote " + delta).contains("21 tensors (21 changed)");
        Path back = tmp.resolve("back");
        CliRunner a = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", delta.toString(), "--out", back.toString(),
                "--max-shard-size", "20KB", "--threads", "2");
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(Files.exists(back.resolve("model.safetensors.index.json"))).isTrue();
        assertThat(Fixtures.read(back, "model.norm.weight")).hasSize(64);
    }

    @Test
    void applyDeltaDryRunJson() throws Exception {
        CliRunner r = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", target.toString(), "--dry-run", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("dryRun").asBoolean()).isTrue();
        assertThat(j.get("changes")).hasSize(21);
        assertThat(j.get("changes").get(0).get("action").asText()).isEqualTo("add");
    }

    @Test
    void swappedInputsExitThreeWithOneLine() throws Exception {
        Path llava = Fixtures.write(tmp.resolve("llava-delta"), null, List.of(
                T.of("model.embed_tokens.weight", DType.F16, Fixtures.shape(3, 1), 1, 2, 3),
                T.of("model.mm_projector.weight", DType.F16, Fixtures.shape(1, 1), 1)));
        Path llama = Fixtures.write(tmp.resolve("llama"), null, List.of(
                T.of("model.embed_tokens.weight", DType.F16, Fixtures.shape(2, 1), 1, 2)));
        Path out = tmp.resolve("out");
        CliRunner r = CliRunner.run("apply-delta", "--base", llava.toString(), "--delta", llama.toString(), "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err().strip().lines()).singleElement().asString().startsWith("ckpt: ").contains("swapped");
        assertThat(out).doesNotExist();
    }

    @Test
    void severalProblemsAreEachListedThenSummarised() throws Exception {
        Path other = tmp.resolve("other");
        SyntheticLlama.write(other, SyntheticLlama.Options.tiny().withLayers(3));
        CliRunner r = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", other.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("ckpt: error: wrong base: num_hidden_layers is 2 in the base")
                .contains("problems found before writing (listed above); nothing was written");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void jsonFailureListsDiagnosticsOnStdout() throws Exception {
        Path other = tmp.resolve("other");
        SyntheticLlama.write(other, SyntheticLlama.Options.tiny().withLayers(3));
        CliRunner r = CliRunner.run("make-delta", "--base", base.toString(), "--target", other.toString(), "--out",
                tmp.resolve("o").toString(), "--json");
        assertThat(r.exitCode()).isEqualTo(3);
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("ok").asBoolean()).isFalse();
        assertThat(j.get("diagnostics").toString()).contains("num_hidden_layers is 2 in the base").contains("but 3 in the target");
    }

    @Test
    void missingOutIsUsageError() {
        CliRunner r = CliRunner.run("make-delta", "--base", base.toString(), "--target", target.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--out DIR is required");
    }

    @Test
    void mergeLoraDryRunListsChangedTensorsByAdapter() throws Exception {
        String q = "model.layers.1.self_attn.q_proj";
        Path lora = Fixtures.adapter(tmp.resolve("lora"), "{\"r\":2,\"lora_alpha\":4,\"target_modules\":[\"q_proj\"]}",
                List.of(T.of("base_model.model." + q + ".lora_A.weight", DType.F32, Fixtures.shape(2, 64), new float[128]),
                        T.of("base_model.model." + q + ".lora_B.weight", DType.F32, Fixtures.shape(64, 2), new float[128])),
                null, null);
        CliRunner r = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", lora + ":0.5", "--dry-run");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("1 changed").contains("lora  " + q + ".weight  <- adapter 1 (lora) r=2 scale=1.0");
        CliRunner w = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", lora.toString(), "--out", tmp.resolve("m").toString());
        assertThat(w.exitCode()).as(w.err()).isZero();
        // B is zero: the merged tensor equals the base bit for bit
        assertThat(Fixtures.bytes(tmp.resolve("m"), q + ".weight")).isEqualTo(Fixtures.bytes(base, q + ".weight"));
    }

    /** lora_alpha 1e308 makes PEFT's f32 scaling infinite: refused before writing instead of an all-inf model. */
    @Test
    void mergeLoraRefusesAScalingThatOverflowsF32() throws Exception {
        String q = "model.layers.1.self_attn.q_proj";
        Path lora = Fixtures.adapter(tmp.resolve("huge"), "{\"r\":2,\"lora_alpha\":1e308,\"target_modules\":[\"q_proj\"]}",
                List.of(T.of("base_model.model." + q + ".lora_A.weight", DType.F32, Fixtures.shape(2, 64), new float[128]),
                        T.of("base_model.model." + q + ".lora_B.weight", DType.F32, Fixtures.shape(64, 2), new float[128])),
                null, null);
        CliRunner r = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", lora.toString(), "--out",
                tmp.resolve("inf").toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("(lora_alpha 1.0E308 / rank 2) is Infinity in f32");
        assertThat(tmp.resolve("inf")).doesNotExist();
    }

    @Test
    void mergeLoraOnAFolderWithoutAdapterConfigExitsThree() throws Exception {
        Path notAdapter = Files.createDirectories(tmp.resolve("checkpoint-100"));
        CliRunner r = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", notAdapter.toString(), "--out", tmp.resolve("m").toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).startsWith("ckpt: checkpoint-100: no adapter_config.json");
    }
}

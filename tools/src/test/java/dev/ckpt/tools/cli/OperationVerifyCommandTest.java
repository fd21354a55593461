package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.demo.LoraStep;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --verify} on apply-delta and merge-lora through the CLI: each passes against its operation's
 * reference on a tiny model, and a wrong reference (a delta or adapter other than the one applied,
 * reached through {@code ckpt verify}) fails with exit 5 and a one-line reason.
 */
class OperationVerifyCommandTest {
    @TempDir
    static Path tmp;
    static Path base;
    static Path target;
    static Path delta;

    @BeforeAll
    static void models() throws Exception {
        base = tmp.resolve("base");
        target = tmp.resolve("target");
        SyntheticLlama.write(base, SyntheticLlama.Options.tiny().withSeed(1));
        SyntheticLlama.write(target, SyntheticLlama.Options.tiny().withSeed(2));
        delta = tmp.resolve("delta");
        CliRunner m = CliRunner.run("make-delta", "--base", base.toString(), "--target", target.toString(), "--out", delta.toString());
        assertThat(m.exitCode()).as(m.err()).isZero();
    }

    @Test
    void applyDeltaVerifiesAgainstBasePlusDelta() {
        Path out = tmp.resolve("rebuilt");
        CliRunner r = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", delta.toString(), "--out", out.toString(),
                "--verify", "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out).contains("verification: PASS vs " + base + " + delta " + delta + " (f32)")
                .contains("top1-agreement");
    }

    @Test
    void mergeLoraVerifiesAgainstRuntimeAdaptersJson() throws Exception {
        Path a1 = LoraStep.writeAdapter(base, tmp.resolve("lora1"), 1);
        Path a2 = LoraStep.writeAdapter(base, tmp.resolve("lora2"), 2);
        Path out = tmp.resolve("merged");
        CliRunner r = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", a1 + ":0.5", "--lora", a2.toString(),
                "--out", out.toString(), "--verify", "--verify-device", "cpu", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode v = new ObjectMapper().readTree(r.out()).get("verification");
        assertThat(v.get("passed").asBoolean()).isTrue();
        assertThat(v.get("comparison").get("reference").asText()).contains("+ LoRA " + a1 + " x0.5").contains("+ LoRA " + a2);
        assertThat(v.get("comparison").get("top1Agreement").asDouble()).isEqualTo(1.0);
    }

    @Test
    void wrongReferencesFailWithExitFive() throws Exception {
        Path a1 = LoraStep.writeAdapter(base, tmp.resolve("lora-a"), 3);
        Path out = tmp.resolve("merged-a");
        CliRunner m = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", a1 + ":2", "--out", out.toString());
        assertThat(m.exitCode()).as(m.err()).isZero();
        // the merge is correct at weight 2; claiming weight 1 must be caught
        CliRunner wrong = CliRunner.run("verify", out.toString(), "--reference", base.toString(), "--reference-lora", a1.toString(),
                "--device", "cpu", "--tokens", "4");
        assertThat(wrong.exitCode()).isEqualTo(5);
        assertThat(wrong.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification failed: ");
        CliRunner right = CliRunner.run("verify", out.toString(), "--reference", base.toString(), "--reference-lora", a1 + ":2",
                "--device", "cpu", "--tokens", "4");
        assertThat(right.exitCode()).as(right.err() + right.out()).isZero();
        // base + delta does not equal the base
        CliRunner d = CliRunner.run("verify", base.toString(), "--reference", base.toString(), "--reference-delta", delta.toString(),
                "--device", "cpu", "--tokens", "4");
        assertThat(d.exitCode()).isEqualTo(5);
        assertThat(d.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification failed: ");
    }

    @Test
    void corruptedOutputsFailTheirOperationWithExitFive() throws Exception {
        VerifyMixin.testHook = OperationVerifyCommandTest::zeroABlock;
        try {
            Path out = tmp.resolve("rebuilt-corrupt");
            CliRunner d = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", delta.toString(), "--out", out.toString(),
                    "--verify", "--verify-device", "cpu");
            assertThat(d.exitCode()).isEqualTo(5);
            assertThat(d.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of " + out + " failed: ");
            assertThat(d.out()).contains("verification: FAIL vs ");

            Path a1 = LoraStep.writeAdapter(base, tmp.resolve("lora-c"), 4);
            Path merged = tmp.resolve("merged-corrupt");
            CliRunner m = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", a1.toString(), "--out", merged.toString(),
                    "--verify", "--verify-device", "cpu", "--json");
            assertThat(m.exitCode()).isEqualTo(5);
            assertThat(m.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of " + merged + " failed: ");
            assertThat(new ObjectMapper().readTree(m.out()).get("verification").get("passed").asBoolean()).isFalse();
        } finally {
            VerifyMixin.testHook = null;
        }
    }

    /** Zeroes 16 KiB in the middle of the first weight file's tensor data ({@code dir} may be the file). */
    static void zeroABlock(Path dir) throws java.io.IOException {
        Path file = dir;
        if (java.nio.file.Files.isDirectory(dir)) try (var files = java.nio.file.Files.list(dir)) {
            file = files.filter(f -> f.toString().endsWith(".safetensors")).sorted().findFirst().orElseThrow();
        }
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            long size = ch.size();
            ch.write(java.nio.ByteBuffer.allocate(16 * 1024), size / 2);
        }
    }

    @Test
    void convertJsonCarriesTheVerification() throws Exception {
        Path out = tmp.resolve("f16");
        CliRunner r = CliRunner.run("convert", base.toString(), "--out", out.toString(), "--dtype", "f16", "--json", "--verify",
                "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("out").asText()).isEqualTo(out.toString());
        assertThat(j.get("verification").get("comparison").get("reference").asText()).isEqualTo(base.toString());
        assertThat(j.get("verification").get("passed").asBoolean()).isTrue();
    }

    @Test
    void llavaLoraFoldersAreRefusedBeforeMergingWhenVerifying() throws Exception {
        Path a = LoraStep.writeAdapter(base, tmp.resolve("llava-lora"), 5);
        java.nio.file.Files.write(a.resolve("non_lora_trainables.bin"), new byte[0]); // refused by name, before reading
        Path out = tmp.resolve("merged-llava");
        CliRunner r = CliRunner.run("merge-lora", "--base", base.toString(), "--lora", a.toString(), "--out", out.toString(), "--verify");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip().lines()).singleElement().asString().startsWith("ckpt: --verify: ")
                .contains("non_lora_trainables.bin");
        assertThat(out).doesNotExist();
    }

    @Test
    void verifyWithDryRunIsAUsageError() {
        CliRunner r = CliRunner.run("apply-delta", "--base", base.toString(), "--delta", delta.toString(), "--dry-run", "--verify");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().strip()).startsWith("ckpt: --verify needs an output");
    }
}

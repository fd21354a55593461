package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.gguf.MmprojFiles;
import dev.ckpt.verify.TinyModels;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --verify} on quantize and convert to / from GGUF: the GGUF is read back dequantized (no temp
 * copy) and compared with its unquantized source; a corrupted GGUF fails with exit 5. A LLaVA model's mmproj
 * is verified with it (the image path runs on the mmproj's weights), and a corrupted mmproj fails too.
 */
class GgufVerifyCommandTest {
    @TempDir
    static Path tmp;
    static Path src;

    @BeforeAll
    static void model() throws Exception {
        src = tmp.resolve("src");
        SyntheticLlama.write(src, SyntheticLlama.Options.tiny().withSeed(3));
    }

    @Test
    void quantizeVerifiesAgainstTheUnquantizedSource() throws Exception {
        Path q8 = tmp.resolve("q8.gguf");
        CliRunner r = CliRunner.run("quantize", src.toString(), "--type", "Q8_0", "--out", q8.toString(), "--json", "--verify",
                "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode c = new ObjectMapper().readTree(r.out()).get("verification").get("comparison");
        assertThat(c.get("reference").asText()).isEqualTo(src.toString());
        assertThat(c.get("top1Agreement").asDouble()).isGreaterThanOrEqualTo(0.6);
        assertThat(c.get("meanKl").asDouble()).isLessThan(0.1);
        CliRunner smoke = CliRunner.run("verify", q8.toString(), "--device", "cpu", "--tokens", "2");
        assertThat(smoke.exitCode()).as(smoke.err() + smoke.out()).isZero();
    }

    @Test
    void convertToGgufAndBackVerify() throws Exception {
        Path f32 = tmp.resolve("f32.gguf");
        CliRunner to = CliRunner.run("convert", src.toString(), "--to", "gguf", "--type", "f32", "--out", f32.toString(), "--verify",
                "--verify-device", "cpu");
        assertThat(to.exitCode()).as(to.err()).isZero();
        assertThat(to.out()).contains("verification: PASS vs " + src + ": max |dlogit| ");
        Path back = tmp.resolve("back");
        CliRunner from = CliRunner.run("convert", f32.toString(), "--out", back.toString(), "--verify", "--verify-device", "cpu");
        assertThat(from.exitCode()).as(from.err()).isZero();
        assertThat(from.out()).contains("verification: PASS vs " + f32 + ": max |dlogit| 0.00, top-1 1.000, mean KL 0.00 nats");
    }

    @Test
    void aCorruptedQuantizedFileExitsFive() {
        VerifyMixin.testHook = OperationVerifyCommandTest::zeroABlock;
        try {
            Path q = tmp.resolve("corrupt.gguf");
            CliRunner r = CliRunner.run("quantize", src.toString(), "--type", "Q8_0", "--out", q.toString(), "--verify",
                    "--verify-device", "cpu");
            assertThat(r.exitCode()).as(r.out()).isEqualTo(5);
            assertThat(r.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of " + q + " failed: ");
        } finally {
            VerifyMixin.testHook = null;
        }
    }

    @Test
    void convertLlavaToGgufVerifiesTheMmprojOnTheImagePath() throws Exception {
        Path llava = tmp.resolve("llava");
        TinyModels.writeLlava(llava, TinyModels.LlamaSpec.small(), TinyModels.ClipSpec.small(), true, null);
        Path out = tmp.resolve("llava.gguf");
        CliRunner r = CliRunner.run("convert", llava.toString(), "--to", "gguf", "--type", "f16", "--out", out.toString(), "--verify",
                "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        assertThat(r.out()).contains("verification: PASS vs " + llava + ": ").contains("(LlavaLlamaForCausalLM, ");

        VerifyMixin.testHook = lm -> MmprojFiles.scale(tmp.resolve("llava-bad.mmproj.gguf"), "mm.0.weight", 0);
        try {
            Path bad = tmp.resolve("llava-bad.gguf");
            CliRunner c = CliRunner.run("convert", llava.toString(), "--to", "gguf", "--type", "f16", "--out", bad.toString(),
                    "--verify", "--verify-device", "cpu");
            assertThat(c.exitCode()).as(c.out()).isEqualTo(5);
            assertThat(c.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of " + bad + " failed: ");
            assertThat(c.out()).contains("verification: FAIL vs " + llava);
        } finally {
            VerifyMixin.testHook = null;
        }
    }
}

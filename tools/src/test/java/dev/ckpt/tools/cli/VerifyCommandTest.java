package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.verify.TinyModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class VerifyCommandTest {
    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {
    }

    private static Run ckpt(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path model(String name, long seed) throws Exception {
        Path dir = tmp.resolve(name);
        var s = TinyModels.LlamaSpec.small();
        TinyModels.writeLlama(dir, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.tied(), s.dtype(), null, s.ropeTheta(), seed));
        return dir;
    }

    @Test
    void verifiesAModelAndWritesReports() throws Exception {
        Path m = model("m", 1);
        Path junit = tmp.resolve("verify.xml");
        Path logits = tmp.resolve("logits.json");
        Run r = ckpt("verify", m.toString(), "--device", "cpu", "--tokens", "3", "--json", "--junit", junit.toString(),
                "--dump-logits", logits.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("generatedIds").size()).isEqualTo(3);
        assertThat(Files.readString(junit)).contains("failures=\"0\"");
        JsonNode dump = new ObjectMapper().readTree(logits.toFile());
        assertThat(dump.get("logits").size()).isEqualTo(3);
        assertThat(dump.get("logits").get(0).size()).isEqualTo(TinyModels.vocab().size());
    }

    @Test
    void referenceMismatchExitsFive() throws Exception {
        Path a = model("a", 1);
        Path b = model("b", 2);
        Run r = ckpt("verify", a.toString(), "--reference", b.toString(), "--prompt-ids", "1,280,290", "--tokens", "2");
        assertThat(r.code()).isEqualTo(ExitCodes.VERIFY_FAILED);
        assertThat(r.out()).contains("FAIL", "max-abs-logit-delta");
        assertThat(r.err().strip()).startsWith("ckpt: verification failed:").doesNotContain("\n").doesNotContain("Exception");
        Run same = ckpt("verify", a.toString(), "--reference", a.toString(), "--tokens", "2");
        assertThat(same.code()).as(same.err()).isZero();
        assertThat(same.out()).contains("PASS", "top1-agreement");
    }

    @Test
    void convertVerifiesItsOutputAgainstTheSource() throws Exception {
        Path m = model("m", 1);
        Path junit = tmp.resolve("convert-verify.xml");
        Run r = ckpt("convert", m.toString(), "--out", tmp.resolve("f16").toString(), "--dtype", "f16", "--verify",
                "--verify-device", "cpu", "--verify-junit", junit.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote", "PASS", "top1-agreement");
        assertThat(Files.readString(junit)).contains("failures=\"0\"");
        Run plain = ckpt("convert", m.toString(), "--out", tmp.resolve("copy").toString());
        assertThat(plain.out()).doesNotContain("PASS");
    }

    @Test
    void unreadableInputExitsThreeAndBadOptionsTwo() throws Exception {
        Path m = model("m", 1);
        Files.writeString(m.resolve("model.safetensors"), "not safetensors");
        Run bad = ckpt("verify", m.toString());
        assertThat(bad.code()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(bad.err()).startsWith("ckpt: model.safetensors:").doesNotContain("\tat ");
        assertThat(ckpt("verify", tmp.resolve("missing").toString()).code()).isEqualTo(ExitCodes.BAD_INPUT);
        Path ok = model("ok", 1);
        Run dev = ckpt("verify", ok.toString(), "--device", "gpu:3");
        assertThat(dev.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(dev.err()).contains("PYTORCH_LIBRARY_PATH");
    }
}

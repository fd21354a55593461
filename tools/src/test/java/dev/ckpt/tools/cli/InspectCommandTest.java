package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path tmp;
    Path model;

    @BeforeEach
    void build() throws Exception {
        model = tmp.resolve("llama");
        SyntheticLlama.write(model, SyntheticLlama.Options.tiny());
    }

    @Test
    void describesTinyLlama() {
        CliRunner r = CliRunner.run("inspect", model.toString());
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("full model", "LlamaForCausalLM", "hidden_size:", "64", "139,840",
                "model-00002-of-00002.safetensors", "lm_head.weight", "BF16", "problems:                 none");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void jsonIsMachineReadable() throws Exception {
        CliRunner r = CliRunner.run("inspect", "--json", model.toString());
        assertThat(r.exitCode()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertThat(n.get("kind").asText()).isEqualTo("FULL_MODEL");
        assertThat(n.get("parameterCount").asLong()).isEqualTo(139_840L);
        assertThat(n.get("tensors")).hasSize(21);
        assertThat(n.get("config").get("num_hidden_layers").asInt()).isEqualTo(2);
        assertThat(n.get("problems")).isEmpty();
    }

    @Test
    void missingShardIsAProblemWithExit3() throws Exception {
        Files.delete(model.resolve("model-00001-of-00002.safetensors"));
        CliRunner r = CliRunner.run("inspect", model.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.out()).contains("problems (1)");
        assertThat(r.err().lines()).hasSize(1).first().asString().startsWith("ckpt: llama: 1 problem(s) found")
                .contains("model-00001-of-00002.safetensors");
    }

    @Test
    void truncatedShardIsOneLineExit3() throws Exception {
        Path shard = model.resolve("model-00002-of-00002.safetensors");
        Files.write(shard, java.util.Arrays.copyOf(Files.readAllBytes(shard), 100));
        CliRunner r = CliRunner.run("inspect", model.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err().lines()).hasSize(1).first().asString().startsWith("ckpt: model-00002-of-00002.safetensors: ");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void headerLengthPastEofAndMissingPath() throws Exception {
        Path f = tmp.resolve("x.safetensors");
        Files.write(f, new byte[] {(byte) 0xff, 0, 0, 0, 0, 0, 0, 0, '{'});
        CliRunner r = CliRunner.run("inspect", f.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).startsWith("ckpt: x.safetensors: header length 255 runs past the end").doesNotContain("\tat ");
        CliRunner missing = CliRunner.run("inspect", tmp.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(missing.err()).startsWith("ckpt: no such file or directory");
    }

    @Test
    void debugFlagIsAccepted() {
        CliRunner r = CliRunner.run("inspect", "--debug", model.toString());
        assertThat(r.exitCode()).isZero();
        ExitCodes.debug = false;
    }

    /** A tensor name with a newline and terminal escapes is printed as one inert line (JSON escapes it). */
    @Test
    void namesFromTheFileCannotRewriteTheTerminal() throws Exception {
        String name = "evil\u001b[2J\u001b[31mname\nnext";
        byte[] header = ("{\"" + name.replace("\u001b", "\\u001b").replace("\n", "\\n")
                + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + header.length + 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path f = tmp.resolve("esc.safetensors");
        Files.write(f, b.array());
        CliRunner r = CliRunner.run("inspect", f.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("evil?[2J?[31mname?next").doesNotContain("\u001b");
        CliRunner j = CliRunner.run("inspect", f.toString(), "--json");
        assertThat(new ObjectMapper().readTree(j.out()).get("tensors").get(0).get("name").asText()).isEqualTo(name);
    }
}

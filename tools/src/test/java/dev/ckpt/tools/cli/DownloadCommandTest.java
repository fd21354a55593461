package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.hub.serve.HubServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ckpt download} against an in-process {@code ckpt serve}: JSON report, exit codes, no token in output. */
class DownloadCommandTest {
    private static final String TOKEN = "hf_CliSecretToken42";
    @TempDir
    Path tmp;
    HubServer server;

    @BeforeEach
    void start() throws Exception {
        Path repo = tmp.resolve("models/acme/tiny");
        Files.createDirectories(repo);
        Files.writeString(repo.resolve("config.json"), "{\"model_type\":\"llama\"}");
        Files.write(repo.resolve("model.safetensors"), new byte[200_000]);
        server = HubServer.start(List.of(tmp.resolve("models")), List.of(), 0);
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void downloadsAndReportsJson() throws Exception {
        CliRunner r = CliRunner.run("download", "acme/tiny", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--token", TOKEN, "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("files")).hasSize(2);
        assertThat(j.get("downloaded_bytes").asLong()).isEqualTo(200_000 + 22);
        assertThat(Path.of(j.get("path").asText()).resolve("model.safetensors")).exists();
        assertThat(r.out() + r.err()).doesNotContain(TOKEN);

        CliRunner text = CliRunner.run("download", "acme/tiny", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--include", "*.json");
        assertThat(text.exitCode()).isZero();
        assertThat(text.out()).contains("1 files").contains("0 downloaded").endsWith(j.get("path").asText() + "\n");
    }

    @Test
    void verifySmokeTestsADownloadedModel() throws Exception {
        dev.ckpt.formats.synthetic.SyntheticLlama.write(tmp.resolve("models/acme/llama"), dev.ckpt.formats.synthetic.SyntheticLlama.Options.tiny());
        CliRunner r = CliRunner.run("download", "acme/llama", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--json", "--verify", "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode v = new ObjectMapper().readTree(r.out()).get("verification");
        assertThat(v.get("passed").asBoolean()).isTrue();
        assertThat(v.get("generatedIds")).hasSize(4);
        CliRunner text = CliRunner.run("download", "acme/llama", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--verify", "--verify-device", "cpu");
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).contains("verification: PASS (smoke pass, no reference): 4 token(s) decoded, every check passed")
                .endsWith(v.get("model").asText() + "\n");
    }

    @Test
    void verifyOfABrokenDownloadedModelExitsFiveAndSkipsNonModels() throws Exception {
        // config.json says 3 layers, the weights have 2: the model cannot run as published
        Path broken = tmp.resolve("models/acme/broken");
        dev.ckpt.formats.synthetic.SyntheticLlama.write(broken, dev.ckpt.formats.synthetic.SyntheticLlama.Options.tiny());
        Files.writeString(broken.resolve("config.json"), Files.readString(broken.resolve("config.json"))
                .replaceFirst("\"num_hidden_layers\"\\s*:\\s*2", "\"num_hidden_layers\": 3"));
        CliRunner r = CliRunner.run("download", "acme/broken", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--verify", "--verify-device", "cpu");
        assertThat(r.exitCode()).as(r.out()).isEqualTo(5);
        assertThat(r.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of ")
                .contains("failed: tensors-match-config");
        CliRunner notModel = CliRunner.run("download", "acme/tiny", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--include", "*.json", "--verify");
        assertThat(notModel.exitCode()).as(notModel.err()).isZero();
        assertThat(notModel.out()).contains("verification skipped: no weight files");
    }

    @Test
    void failuresAreOneLineWithExitCodeFour() {
        CliRunner r = CliRunner.run("download", "acme/missing", "--endpoint", server.baseUrl(), "--cache-dir",
                tmp.resolve("cache").toString(), "--token", TOKEN);
        assertThat(r.exitCode()).isEqualTo(ExitCodes.NETWORK);
        assertThat(r.err()).startsWith("ckpt: repository acme/missing not found or private").contains("a token was sent")
                .doesNotContain(TOKEN);
        assertThat(r.err().strip().lines()).hasSize(1);

        CliRunner offline = CliRunner.run("download", "acme/tiny", "--offline", "--cache-dir", tmp.resolve("empty").toString());
        assertThat(offline.exitCode()).isEqualTo(ExitCodes.NETWORK);
        assertThat(offline.err()).contains("not in the cache");

        assertThat(CliRunner.run("download", "not a repo!", "--offline").exitCode()).isEqualTo(ExitCodes.USAGE);
    }
}

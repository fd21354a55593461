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

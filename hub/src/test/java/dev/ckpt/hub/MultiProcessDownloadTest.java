package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.hub.serve.HubServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two separate JVMs download the same repo into one cache at once: both succeed, one blob per file. */
class MultiProcessDownloadTest {
    @TempDir
    Path tmp;

    @Test
    void twoProcessesShareTheCacheSafely() throws Exception {
        Path source = Fixtures.tinyRepo(tmp.resolve("models"), 4 * 1024 * 1024);
        Path cache = tmp.resolve("cache");
        String java = ProcessHandle.current().info().command().orElse("java");
        try (HubServer server = HubServer.start(List.of(tmp.resolve("models")), List.of(), 0)) {
            List<Process> procs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                procs.add(new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), DownloadMain.class.getName(),
                        server.baseUrl(), cache.toString(), "acme/tiny").redirectErrorStream(true).start());
            }
            for (Process p : procs) {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(out).isZero();
            }
        }
        try (var s = Files.list(cache.resolve("models--acme--tiny/blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(4).noneMatch(n -> n.contains("incomplete"))
                    .contains(Fixtures.sha256(source.resolve("model.safetensors")));
        }
        try (var s = Files.list(cache.resolve(".locks/models--acme--tiny"))) {
            assertThat(s.toList()).isNotEmpty();
        }
    }
}

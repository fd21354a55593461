package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.hub.serve.HubServer;
import java.io.IOException;
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
                procs.add(new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), DownloadMain.class.getName(),
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

    @Test
    void aKilledDownloadResumesItsRangesInTheNextRun() throws Exception {
        Path source = Fixtures.tinyRepo(tmp.resolve("models"), 4 * 1024 * 1024);
        String sha = Fixtures.sha256(source.resolve("model.safetensors"));
        Path cache = tmp.resolve("cache");
        Path sidecar = cache.resolve("models--acme--tiny/blobs/" + sha + ".incomplete.parts");
        String java = ProcessHandle.current().info().command().orElse("java");
        var store = new dev.ckpt.hub.serve.ModelStore(List.of(tmp.resolve("models")), List.of());
        try (HubServer slow = HubServer.start(store, new HubServer.Options("127.0.0.1", 0, 1000, 512 * 1024))) {
            Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), DownloadMain.class.getName(),
                    slow.baseUrl(), cache.toString(), "acme/tiny", "4").redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("child.log").toFile()).start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (doneBytes(sidecar) < 1_000_000 && System.nanoTime() < deadline && p.isAlive()) {
                Thread.sleep(50);
            }
            boolean wasAlive = p.isAlive();
            p.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, nothing flushed on the way out
            assertThat(wasAlive).as(Files.readString(tmp.resolve("child.log"))).isTrue();
        }
        long saved = doneBytes(sidecar);
        assertThat(saved).isGreaterThanOrEqualTo(1_000_000);
        java.util.concurrent.atomic.AtomicLong resumed = new java.util.concurrent.atomic.AtomicLong();
        try (HubServer fast = HubServer.start(store, HubServer.Options.loopback(0))) {
            DownloadResult r = new Downloader(new HubClient(Fixtures.config(fast.baseUrl(), cache, null))).download(
                    RepoId.model("acme/tiny"), DownloadOptions.defaults().withParallelism(2, 4, 256 * 1024),
                    new DownloadListener() {
                        @Override
                        public void resumed(String path, long bytes) {
                            resumed.addAndGet(bytes);
                        }
                    });
            assertThat(resumed.get()).isGreaterThanOrEqualTo(saved);
            assertThat(r.downloadedBytes()).isLessThan(r.totalBytes() - 1_000_000);
            assertThat(Files.mismatch(r.root().resolve("model.safetensors"), source.resolve("model.safetensors"))).isEqualTo(-1);
        }
        assertThat(sidecar).doesNotExist();
    }

    /** Sum of the done column of a parts sidecar, 0 when absent or mid-rename. */
    private static long doneBytes(Path sidecar) {
        try {
            return Files.readAllLines(sidecar).stream().skip(1).mapToLong(l -> Long.parseLong(l.split(" ")[2])).sum();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}

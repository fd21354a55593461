package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ckpt.hub.serve.HubServer;
import dev.ckpt.hub.serve.ModelStore;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real JavaScript Hub client ({@code @huggingface/hub} from npm, pinned by {@code src/test/js/package-lock.json})
 * downloads from {@code ckpt serve}; its cache tree (refs, blob names, relative symlinks) must equal ckpt's own.
 * The package is installed with {@code npm ci} into {@code target/js-interop} by this test; it is skipped only
 * when no {@code npm} is on the PATH.
 */
class HubJsInteropTest {
    @TempDir
    Path tmp;

    @Test
    void javascriptClientAndCkptProduceTheSameCacheTree() throws Exception {
        Path npm = onPath("npm");
        Path node = onPath("node");
        assumeTrue(npm != null && node != null, "npm/node not on PATH: skipping the @huggingface/hub interop test");
        Path js = installClient(npm);

        Fixtures.tinyRepo(tmp.resolve("models"), 300_000);
        try (HubServer server = HubServer.start(List.of(tmp.resolve("models")), List.of(), 0)) {
            Path jsCache = tmp.resolve("js-cache");
            Process p = new ProcessBuilder(node.toString(), js.resolve("snapshot.mjs").toString(), server.baseUrl(),
                    "acme/tiny", "main", jsCache.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();

            Path ckptCache = tmp.resolve("ckpt-cache");
            DownloadResult r = new Downloader(new HubClient(Fixtures.config(server.baseUrl(), ckptCache, null)))
                    .download(RepoId.model("acme/tiny"), DownloadOptions.defaults(), DownloadListener.NONE);
            assertThat(out.trim()).endsWith("snapshots/" + r.commit());

            Map<String, String> jsTree = tree(jsCache.resolve("models--acme--tiny"));
            Map<String, String> ckptTree = tree(ckptCache.resolve("models--acme--tiny"));
            assertThat(jsTree).containsEntry("refs/main", "ref=" + r.commit()).isNotEmpty();
            assertThat(ckptTree).isEqualTo(jsTree);
        }
    }

    /** Relative path -> "link=<target>", "ref=<content>" or "blob=<size>" for refs, blobs and snapshots. */
    private static Map<String, String> tree(Path repo) throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String part : List.of("refs", "blobs", "snapshots")) {
            try (Stream<Path> s = Files.walk(repo.resolve(part))) {
                for (Path p : s.toList()) {
                    String rel = repo.relativize(p).toString();
                    if (Files.isSymbolicLink(p)) {
                        m.put(rel, "link=" + Files.readSymbolicLink(p));
                    } else if (Files.isRegularFile(p)) {
                        m.put(rel, part.equals("refs") ? "ref=" + Files.readString(p) : "blob=" + Files.size(p));
                    }
                }
            }
        }
        return m;
    }

    /** Copies package.json + package-lock.json + the script to target/js-interop and runs {@code npm ci} once. */
    private static Path installClient(Path npm) throws Exception {
        Path src = Path.of("src/test/js");
        Path dir = Path.of("target/js-interop");
        Files.createDirectories(dir);
        for (String f : List.of("package.json", "package-lock.json", "snapshot.mjs")) {
            Files.copy(src.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isDirectory(dir.resolve("node_modules/@huggingface/hub"))) {
            Process p = new ProcessBuilder(npm.toString(), "ci", "--no-audit", "--no-fund", "--ignore-scripts")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("npm ci timed out").isTrue();
            assertThat(p.exitValue()).as("npm ci failed:\n" + out).isZero();
        }
        return dir;
    }

    private static Path onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, exe);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}

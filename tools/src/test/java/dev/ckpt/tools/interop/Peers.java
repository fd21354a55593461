package dev.ckpt.tools.interop;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The npm peers installed by {@code src/test/js/install.sh} during the build: node scripts run in
 * child processes (a malformed GGUF aborts node, never the JVM) and the path of the bundled libllama.
 */
final class Peers {
    static final Path JS = Path.of("src/test/js").toAbsolutePath();
    static final Path LIB_DIR = JS.resolve("node_modules/@node-llama-cpp/linux-x64/bins/linux-x64");

    private Peers() {
    }

    /** Skips the calling test (with the reason) when the peers were not installed. */
    static void assumeInstalled() {
        Assumptions.assumeTrue(Files.isDirectory(JS.resolve("node_modules/node-llama-cpp"))
                && Files.isDirectory(JS.resolve("node_modules/@huggingface/gguf")) && Files.isDirectory(LIB_DIR),
                "npm peers not installed (src/test/js/install.sh needs npm); interop test skipped");
    }

    /** Runs {@code node script args...} in src/test/js; returns stdout, fails the test on a non-zero exit. */
    static String node(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("node", script));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile("ckpt-node", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(JS.toFile()).redirectError(err.toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("node " + script + " timed out");
            }
            if (p.exitValue() != 0) {
                String e = Files.readString(err);
                fail("node " + script + " exited " + p.exitValue() + ": " + e.substring(Math.max(0, e.length() - 2000)));
            }
            return new String(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(err);
        }
    }
}

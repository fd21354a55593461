package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `ckpt serve` refuses bad options in one line with a fixed exit code before it starts (it was exit 1 for ports). */
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void badPortsHostsAndFoldersAreOneLineErrors() {
        assertOneLine(CliRunner.run("serve", "--models", dir.toString(), "--port", "99999"), 2, "--port must be 0..65535");
        assertOneLine(CliRunner.run("serve", "--models", dir.toString(), "--port", "-1"), 2, "--port must be 0..65535");
        assertOneLine(CliRunner.run("serve", "--models", dir.toString(), "--port", "0", "--host", "no.such.host.invalid"), 2,
                "check --host");
        assertOneLine(CliRunner.run("serve", "--port", "0"), 2, "give at least one --models DIR or --cache DIR");
        assertOneLine(CliRunner.run("serve", "--models", dir.resolve("missing").toString(), "--port", "0"), 3,
                "is not a directory");
    }

    private static void assertOneLine(CliRunner r, int code, String text) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(code);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(text).doesNotContain("internal error");
    }
}

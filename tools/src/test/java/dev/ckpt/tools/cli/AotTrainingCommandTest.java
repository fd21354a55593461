package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The launcher records its start-up cache from {@code aot-training}; a training run that fails (a
 * renamed option, a command that no longer accepts the tiny model) would silently leave every user
 * without the cache, so it must succeed, print nothing, and stay out of the help.
 */
class AotTrainingCommandTest {
    @Test
    void trainingRunSucceedsSilently() {
        CliRunner r = CliRunner.run("aot-training");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
    }

    @Test
    void isHiddenFromHelp() {
        assertThat(CliRunner.run("--help").out()).doesNotContain("aot-training").contains("convert");
    }
}

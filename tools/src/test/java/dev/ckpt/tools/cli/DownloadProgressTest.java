package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.hub.FileOutcome;
import dev.ckpt.hub.RepoFile;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DownloadProgressTest {
    @Test
    void theStatusLineShowsTotalsPercentRateEtaAndActiveFiles() {
        DownloadProgress p = DownloadProgress.forStderr(false); // never draws in tests, but computes the line
        p.planned("c", List.of(new RepoFile("model-00001-of-00002.safetensors", 1000, "a", "b"),
                new RepoFile("config.json", 1000, "c", null)));
        p.resumed("model-00001-of-00002.safetensors", 200);
        p.transferred("model-00001-of-00002.safetensors", 300);
        String line = p.line();
        assertThat(line).startsWith("500 B / 2.00 kB (25%)").contains("/s ETA").contains("model-00001-of-00002.safetensors 50%");
        p.finished(new FileOutcome("config.json", 1000, "c", FileOutcome.Status.CACHED, Path.of("x")));
        assertThat(p.line()).startsWith("1.50 kB / 2.00 kB (75%)");
        p.close();
    }
}

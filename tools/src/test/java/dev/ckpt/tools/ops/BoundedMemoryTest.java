package dev.ckpt.tools.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generates and converts a model whose largest tensor (131 MB) is bigger than the whole heap of a
 * child JVM run with -Xmx48m: passes only if nothing stages a tensor (let alone the model) on the heap.
 */
class BoundedMemoryTest {
    @TempDir
    Path tmp;

    /** Child process entry point: generate, then convert to f16. */
    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]);
        SyntheticLlama.write(src, SyntheticLlama.Options.ofSize(300_000_000L, 200_000_000L), 2, ProgressListener.NONE);
        Convert.run(new Convert.Options(src, Path.of(args[1]), Optional.of(DType.F16), 5_000_000_000L, false, 2),
                ProgressListener.NONE);
    }

    @Test
    void convertsAModelLargerThanTheHeap() throws Exception {
        Path src = tmp.resolve("src");
        Path out = tmp.resolve("out");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx48m", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                BoundedMemoryTest.class.getName(), src.toString(), out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        try (Checkpoint c = Checkpoint.open(out)) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.tensor("lm_head.weight").orElseThrow().byteSize()).isEqualTo(32000L * 2048 * 2);
            assertThat(c.tensors()).allMatch(t -> t.dtype() == DType.F16);
        }
    }
}

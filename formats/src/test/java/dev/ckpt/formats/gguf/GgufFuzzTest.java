package dev.ckpt.formats.gguf;

import static org.junit.jupiter.api.Assertions.fail;

import dev.ckpt.formats.FormatException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random corruptions of a valid file: the reader either accepts it or throws FormatException, nothing else. */
class GgufFuzzTest {
    @TempDir
    Path dir;

    @Test
    void corruptedFilesFailOnlyWithFormatException() throws Exception {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.of("llama"));
        md.put("tokens", GgufValue.strings(List.of("a", "b", "c")));
        md.put("scores", GgufValue.floats(new float[] {1, 2, 3}));
        Path good = dir.resolve("good.gguf");
        GgufWriter.write(good, md, List.of(
                new GgufWriter.Tensor("t", GgmlType.F32, new long[] {8, 2}, GgufWriter.TensorSource.of(s -> s.fill((byte) 1))),
                new GgufWriter.Tensor("q", GgmlType.Q4_0, new long[] {32}, GgufWriter.TensorSource.of(s -> s.fill((byte) 2)))),
                GgufWriter.Options.defaults());
        byte[] base = Files.readAllBytes(good);
        SplittableRandom r = new SplittableRandom(8);
        Path p = dir.resolve("fuzz.gguf");
        for (int iter = 0; iter < 2000; iter++) {
            byte[] b = base.clone();
            int header = 200;
            for (int k = 0, n = 1 + r.nextInt(4); k < n; k++) {
                int at = r.nextInt(Math.min(header, b.length));
                b[at] = switch (r.nextInt(3)) {
                    case 0 -> (byte) r.nextInt(256);
                    case 1 -> (byte) 0xFF;
                    default -> 0;
                };
            }
            if (r.nextInt(8) == 0) {
                b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
            }
            Files.write(p, b);
            try (GgufFile f = GgufFile.open(p)) {
                for (GgufTensorInfo t : f.ggufTensors()) {
                    f.bytes(t.name()).get(ValueLayout.JAVA_BYTE, Math.max(0, t.byteSize() - 1));
                }
            } catch (FormatException e) {
                // expected for most corruptions
            } catch (Exception | Error e) {
                fail("iteration " + iter + ": " + e, e);
            }
        }
    }
}

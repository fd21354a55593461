package dev.ckpt.bench;

import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a synthetic random-weight Llama of a named shape for benchmarks:
 * {@code SyntheticModel OUT_DIR SHAPE DTYPE} with SHAPE {@code 7b} (LLaMA-7B: hidden 4096,
 * intermediate 11008, 32 layers, 32 heads, vocabulary 32000), {@code 1b} (TinyLlama-1.1B shape,
 * GQA 32/4) or {@code tiny}, and DTYPE {@code f16}, {@code bf16} or {@code f32}. Skips an existing
 * directory (the model is reused between runs).
 */
public final class SyntheticModel {
    private SyntheticModel() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: SyntheticModel OUT_DIR 7b|1b|tiny f16|bf16|f32");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        if (Files.isDirectory(out)) {
            System.err.println("reusing " + out);
            return;
        }
        SyntheticLlama.Dtypes dt = SyntheticLlama.Dtypes.valueOf(args[2].toUpperCase(Locale.ROOT));
        long shard = 5L << 30;
        SyntheticLlama.Options o = switch (args[1]) {
            case "7b" -> new SyntheticLlama.Options(7, 32000, 4096, 11008, 32, 32, 32, dt, 0, shard);
            case "1b" -> new SyntheticLlama.Options(7, 32000, 2048, 5632, 22, 32, 4, dt, 0, shard);
            case "tiny" -> SyntheticLlama.Options.tiny().withDtypes(dt);
            default -> throw new IllegalArgumentException("unknown shape " + args[1]);
        };
        long t0 = System.nanoTime();
        var report = SyntheticLlama.write(out, o);
        System.err.printf(Locale.ROOT, "wrote %s (%d shard(s)) in %.1f s%n", out, report.weightFiles().size(), (System.nanoTime() - t0) / 1e9);
    }
}

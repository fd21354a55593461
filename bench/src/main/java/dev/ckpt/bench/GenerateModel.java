package dev.ckpt.bench;

import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Writes a synthetic sharded bf16 Llama of about the given size for the convert benchmark.
 * Usage: {@code GenerateModel OUT_DIR SIZE_BYTES [MAX_SHARD_BYTES]}. Streams: memory stays small.
 */
public final class GenerateModel {
    private GenerateModel() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: GenerateModel OUT_DIR SIZE_BYTES [MAX_SHARD_BYTES]");
            System.exit(2);
        }
        long size = Long.parseLong(args[1]);
        long shard = args.length > 2 ? Long.parseLong(args[2]) : 1_000_000_000L;
        SyntheticLlama.Options o = SyntheticLlama.Options.ofSize(size, shard);
        long t0 = System.nanoTime();
        WriteReport r = SyntheticLlama.write(Path.of(args[0]), o);
        System.out.printf(Locale.ROOT, "generated %s: %d layers, %d tensors, %d bytes in %d shards, %.1f s%n",
                r.outDir(), o.layers(), r.tensorCount(), r.tensorBytes(), r.weightFiles().size(),
                (System.nanoTime() - t0) / 1e9);
    }
}

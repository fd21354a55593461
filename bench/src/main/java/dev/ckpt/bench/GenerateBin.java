package dev.ckpt.bench;

import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.formats.synthetic.SyntheticTorchBin;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the benchmark input of {@code bench/run-bin-convert.sh}: a bf16 synthetic Llama of about
 * SIZE_GB (decimal) as sharded torch.save {@code .bin} files with {@code pytorch_model.bin.index.json}.
 * Streams tensor by tensor into the mapped output, so memory stays bounded.
 *
 * <p>Usage: {@code GenerateBin OUT_DIR SIZE_GB [MAX_SHARD_GB]} (default shard limit 1 GB).
 */
public final class GenerateBin {
    private GenerateBin() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: GenerateBin OUT_DIR SIZE_GB [MAX_SHARD_GB]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        long bytes = (long) (Double.parseDouble(args[1]) * 1e9);
        long shard = (long) ((args.length > 2 ? Double.parseDouble(args[2]) : 1.0) * 1e9);
        long start = System.nanoTime();
        var files = SyntheticTorchBin.write(out, SyntheticLlama.Options.ofSize(bytes, shard));
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        System.out.printf("generated %d .bin shard(s), %.2f GB, in %.1f s%n", files.size(), total / 1e9,
                (System.nanoTime() - start) / 1e9);
    }
}

package dev.ckpt.bench;

import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.quant.LlamaCppQuantizer;
import dev.ckpt.tools.quant.QuantType;
import dev.ckpt.formats.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Quantizer throughput, ckpt next to llama.cpp's {@code llama_model_quantize} on the same f16 GGUF,
 * same thread count, and a byte comparison of the two outputs. Prints one Markdown table row per type.
 * Usage: QuantizeBench WORKDIR LIBLLAMA_DIR TARGET_MIB THREADS TYPE...
 */
public final class QuantizeBench {
    private QuantizeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        Path lib = Path.of(args[1]);
        long targetBytes = Long.parseLong(args[2]) << 20;
        int threads = Integer.parseInt(args[3]);
        List<String> types = List.of(args).subList(4, args.length);
        Path src = work.resolve("model-f16");
        Path f16 = work.resolve("model-f16.gguf");
        if (!Files.exists(f16)) {
            if (!Files.exists(src)) {
                SyntheticLlama.write(src, SyntheticLlama.Options.ofSize(targetBytes, 2L << 30).withDtypes(SyntheticLlama.Dtypes.F16));
            }
            try (Checkpoint ck = Checkpoint.open(src)) {
                GgufExport.write(GgufExport.fromCheckpoint(ck, GgufExport.OutType.F16, null), f16, true, threads);
            }
        }
        double mib = Files.size(f16) / 1048576.0;
        System.out.printf("input: %s, %.1f MiB f16, %d threads, %d cores visible%n", f16.getFileName(), mib, threads,
                Runtime.getRuntime().availableProcessors());
        System.out.println("| type | ckpt s | ckpt MiB/s | llama.cpp s | llama.cpp MiB/s | tensor bytes identical |");
        System.out.println("|---|---|---|---|---|---|");
        try (LlamaCppQuantizer ref = new LlamaCppQuantizer(lib)) {
            for (String t : types) {
                QuantType qt = QuantType.parse(t);
                Path ours = work.resolve("ckpt-" + t + ".gguf");
                Path theirs = work.resolve("llama-" + t + ".gguf");
                // warm the page cache and the JIT once, then time
                double ckptS = Double.MAX_VALUE;
                double refS = Double.MAX_VALUE;
                for (int rep = 0; rep < 2; rep++) {
                    long t0 = System.nanoTime();
                    try (GgufFile f = GgufFile.open(f16)) {
                        GgufExport.write(GgufExport.fromGguf(f, qt), ours, true, threads);
                    }
                    ckptS = Math.min(ckptS, (System.nanoTime() - t0) / 1e9);
                    Files.deleteIfExists(theirs);
                    t0 = System.nanoTime();
                    ref.quantize(f16, theirs, qt, threads);
                    refS = Math.min(refS, (System.nanoTime() - t0) / 1e9);
                }
                System.out.printf("| %s | %.2f | %.0f | %.2f | %.0f | %s |%n", t, ckptS, mib / ckptS, refS, mib / refS, identical(ours, theirs));
                Files.deleteIfExists(ours);
                Files.deleteIfExists(theirs);
            }
        }
    }

    private static String identical(Path a, Path b) throws Exception {
        try (GgufFile x = GgufFile.open(a); GgufFile y = GgufFile.open(b)) {
            int diff = 0;
            for (GgufTensorInfo t : x.ggufTensors()) {
                var u = y.ggufTensor(t.name());
                if (u.isEmpty() || u.get().type() != t.type() || x.bytes(t.name()).mismatch(y.bytes(t.name())) != -1) {
                    diff++;
                }
            }
            return diff == 0 ? "yes (" + x.ggufTensors().size() + " tensors)" : "NO: " + diff + " tensors differ";
        }
    }
}

package dev.ckpt.tools.cli;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.gguf.GgufImport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt convert SRC --to gguf|safetensors}: the GGUF directions (a Llama checkpoint to GGUF,
 * a llama GGUF back to safetensors).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert between checkpoint formats: a Llama checkpoint to GGUF (--to gguf), a llama GGUF",
            "back to a safetensors directory (--to safetensors, dequantizing)."})
public final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "checkpoint directory or file")
    Path source;

    @Option(names = "--to", required = true, paramLabel = "FORMAT", description = "gguf or safetensors")
    String to;

    @Option(names = "--type", paramLabel = "T", description = "GGUF tensor type: f32, f16, bf16 or q8_0 (default: the source's 16-bit type)")
    String type;

    @Option(names = "--dtype", paramLabel = "D", description = "safetensors dtype: f32, f16 or bf16 (default: keep, dequantize to f32)")
    String dtype;

    @Option(names = "--out", required = true, paramLabel = "PATH", description = "output file (gguf) or directory (safetensors)")
    Path out;

    @Option(names = "--max-shard-size", paramLabel = "BYTES", description = "safetensors shard limit in bytes (default 5 GB)")
    long maxShardBytes = WriteOptions.DEFAULT_MAX_SHARD_BYTES;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all processors)")
    int threads;

    @Option(names = "--force", description = "replace an existing output")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PrintWriter w = spec.commandLine().getOut();
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        boolean srcGguf = Files.isRegularFile(source) && source.getFileName().toString().endsWith(".gguf");
        switch (to.toLowerCase(Locale.ROOT)) {
            case "gguf" -> {
                if (srcGguf) {
                    throw new CkptException(ExitCodes.USAGE, source + " is already GGUF (use ckpt quantize to change its types)");
                }
                GgufExport.OutType ot = parse(GgufExport.OutType.class, type == null ? "auto" : type, "--type", "f32, f16, bf16, q8_0");
                if (Files.exists(out) && !force) {
                    throw new CkptException(ExitCodes.BAD_INPUT, out + " already exists (pass --force to replace it)");
                }
                try (Checkpoint ck = Checkpoint.open(source)) {
                    ck.requireNoProblems();
                    GgufExport.Plan plan = GgufExport.fromCheckpoint(ck, ot, null);
                    long bytes = GgufExport.write(plan, out, force, n);
                    plan.notes().forEach(note -> w.println("note: " + note));
                    w.printf("wrote %s: %d tensors, %.1f MiB%n", out, plan.tensors().size(), bytes / 1048576.0);
                }
            }
            case "safetensors" -> {
                if (!srcGguf) {
                    throw new CkptException(ExitCodes.USAGE, "convert --to safetensors here reads .gguf files; "
                            + source + " is not one");
                }
                DType dt = dtype == null ? null : parse(DType.class, dtype, "--dtype", "f32, f16, bf16");
                if (dt != null && !dt.isComputeFloat()) {
                    throw new CkptException(ExitCodes.USAGE, "--dtype must be f32, f16 or bf16");
                }
                try (GgufFile f = GgufFile.open(source)) {
                    WriteReport r = GgufImport.toSafetensors(f, out, dt, new WriteOptions(maxShardBytes, force, n));
                    w.printf("wrote %s: %d tensors in %d file(s); tokenizer files are not in GGUF, copy them from the source model%n",
                            out, r.tensorCount(), r.weightFiles().size());
                }
            }
            default -> throw new CkptException(ExitCodes.USAGE, "--to must be gguf or safetensors, got " + to);
        }
        return ExitCodes.OK;
    }

    private static <E extends Enum<E>> E parse(Class<E> type, String s, String opt, String valid) {
        try {
            return Enum.valueOf(type, s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, opt + " must be one of " + valid + ", got " + s);
        }
    }
}

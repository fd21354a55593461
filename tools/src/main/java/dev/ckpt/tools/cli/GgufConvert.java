package dev.ckpt.tools.cli;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.gguf.GgufImport;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.Verify;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The GGUF directions of {@code ckpt convert}: a Llama checkpoint to GGUF, a llama GGUF back to safetensors. */
final class GgufConvert {
    private GgufConvert() {
    }

    static boolean isGguf(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** convert --to gguf's {@code --verify} thresholds: exact for f32, rounded for 16-bit types, lossy for q8_0. */
    static Verify.Thresholds thresholds(GgufExport.OutType type) {
        return switch (type) {
            case F32 -> Verify.Thresholds.EXACT;
            case Q8_0 -> Verify.Thresholds.LOSSY;
            default -> Verify.Thresholds.ROUNDED;
        };
    }

    static int toGguf(Path source, Path out, String type, boolean force, int threads, PrintWriter w, VerifyMixin verify)
            throws Exception {
        if (isGguf(source)) {
            throw new CkptException(ExitCodes.USAGE, source + " is already GGUF (use ckpt quantize to change its types)");
        }
        GgufExport.OutType ot;
        try {
            ot = GgufExport.OutType.valueOf((type == null ? "auto" : type).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, "--type must be f32, f16, bf16 or q8_0, got " + type);
        }
        if (Files.exists(out) && !force) {
            throw new CkptException(ExitCodes.BAD_INPUT, out + " already exists (pass --force to replace it)");
        }
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        try (Checkpoint ck = Checkpoint.open(source)) {
            ck.requireNoProblems();
            GgufExport.Plan plan = GgufExport.fromCheckpoint(ck, ot, null);
            long bytes = GgufExport.write(plan, out, force, n, TerminalProgress.forStderr("converting"));
            plan.notes().forEach(note -> w.println("note: " + note));
            w.printf(Locale.ROOT, "wrote %s: %d tensors, %.1f MiB%n", out, plan.tensors().size(), bytes / 1048576.0);
        }
        w.flush();
        verify.runIfRequested(out, new Reference.Model(source), thresholds(ot), w, false); // the GGUF read back dequantized
        return ExitCodes.OK;
    }

    static int toSafetensors(Path source, Path out, DType dtype, long maxShardBytes, boolean force, int threads, PrintWriter w,
                             VerifyMixin verify) throws Exception {
        try (GgufFile f = GgufFile.open(source)) {
            WriteReport r = GgufImport.toSafetensors(f, out, dtype, new WriteOptions(maxShardBytes, force, Math.max(0, threads)));
            w.printf(Locale.ROOT, "wrote %s: %d tensors in %d file(s); tokenizer files are not in GGUF, copy them from the source model%n",
                    out, r.tensorCount(), r.weightFiles().size());
        }
        w.flush();
        verify.runIfRequested(out, new Reference.Model(source), dtype == null ? Verify.Thresholds.EXACT : Verify.Thresholds.ROUNDED,
                w, false);
        return ExitCodes.OK;
    }
}

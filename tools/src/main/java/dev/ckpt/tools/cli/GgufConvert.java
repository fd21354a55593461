package dev.ckpt.tools.cli;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.gguf.GgufImport;
import dev.ckpt.tools.gguf.MmprojExport;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.Verify;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The GGUF directions of {@code ckpt convert}: a Llama checkpoint to GGUF (a LLaVA one to GGUF + mmproj GGUF), a llama GGUF back to safetensors. */
final class GgufConvert {
    private GgufConvert() {
    }

    static boolean isGguf(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /** The LLaVA options: where the mmproj goes (null: beside the model), the tower (null: inside or local), or none. */
    record Mmproj(Path out, Path visionTower, boolean skip) {
    }

    /** {@code model.gguf} -> {@code model.mmproj.gguf}. */
    static Path defaultMmproj(Path out) {
        String name = out.getFileName().toString();
        String stem = name.toLowerCase(Locale.ROOT).endsWith(".gguf") ? name.substring(0, name.length() - 5) : name;
        return out.resolveSibling(stem + ".mmproj.gguf");
    }

    /** convert --to gguf's {@code --verify} thresholds: exact for f32, rounded for 16-bit types, lossy for q8_0. */
    static Verify.Thresholds thresholds(GgufExport.OutType type) {
        return switch (type) {
            case F32 -> Verify.Thresholds.EXACT;
            case Q8_0 -> Verify.Thresholds.LOSSY;
            default -> Verify.Thresholds.ROUNDED;
        };
    }

    static int toGguf(Path source, Path out, Mmproj mm, String type, boolean force, int threads, PrintWriter w,
                      VerifyMixin verify) throws Exception {
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
        Path mmproj = null; // the mmproj written, verified together with the language model
        Path tower = mm.visionTower(); // the reference run needs a tower that is not inside the source
        try (Checkpoint ck = Checkpoint.open(source)) {
            ck.requireNoProblems();
            boolean llava = MmprojExport.isLlava(ck);
            if (!llava && (mm.out() != null || mm.visionTower() != null || mm.skip())) {
                throw new CkptException(ExitCodes.USAGE, source + " is not a LLaVA model (no mm_* config or mm_projector tensors);"
                        + " --mmproj-out, --vision-tower and --no-mmproj apply to LLaVA only");
            }
            if (mm.skip() && (mm.out() != null || mm.visionTower() != null)) {
                throw new CkptException(ExitCodes.USAGE, "--no-mmproj excludes --mmproj-out and --vision-tower");
            }
            GgufExport.Plan plan = GgufExport.fromCheckpoint(ck, ot, null);
            if (!llava || mm.skip()) {
                long bytes = GgufExport.write(plan, out, force, n, TerminalProgress.forStderr("converting"));
                plan.notes().forEach(note -> w.println("note: " + note));
                w.printf(Locale.ROOT, "wrote %s: %d tensors, %.1f MiB%n", out, plan.tensors().size(), bytes / 1048576.0);
            } else {
                mmproj = writeLlava(ck, plan, out, mm, ot, force, n, w);
            }
        }
        w.flush();
        // the GGUF (and the mmproj: the image path too) read back dequantized and compared with the source
        verify.runIfRequested(out, mmproj, tower, new Reference.Model(source), thresholds(ot), w, false);
        return ExitCodes.OK;
    }

    /** Language model to {@code out}, vision tower + projector to the mmproj (returned); both or neither (best effort). */
    private static Path writeLlava(Checkpoint ck, GgufExport.Plan plan, Path out, Mmproj mm, GgufExport.OutType ot,
                                   boolean force, int n, PrintWriter w) throws Exception {
        Path mmOut = mm.out() != null ? mm.out() : defaultMmproj(out);
        if (mmOut.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new CkptException(ExitCodes.USAGE, "--mmproj-out must differ from --out");
        }
        if (Files.exists(mmOut) && !force) {
            throw new CkptException(ExitCodes.BAD_INPUT, mmOut + " already exists (pass --force to replace it)");
        }
        Path towerDir = mm.visionTower();
        if (towerDir == null && !MmprojExport.hasInnerTower(ck)) {
            towerDir = ck.config().flatMap(MmprojExport::localTower).orElse(null);
        }
        try (Checkpoint tower = towerDir == null ? null : Checkpoint.open(towerDir)) {
            if (tower != null) {
                tower.requireNoProblems();
            }
            GgufExport.Plan mmPlan = MmprojExport.plan(ck, tower, ot);
            long mmBytes = GgufExport.write(mmPlan, mmOut, force, n, TerminalProgress.forStderr("converting mmproj"));
            long bytes;
            boolean ok = false;
            try {
                bytes = GgufExport.write(plan, out, force, n, TerminalProgress.forStderr("converting"));
                ok = true;
            } finally {
                if (!ok) {
                    Files.deleteIfExists(mmOut); // no half pair: the mmproj goes when the language model fails
                }
            }
            plan.notes().stream().filter(note -> !note.startsWith(GgufExport.VISION_NOTE)).forEach(note -> w.println("note: " + note));
            mmPlan.notes().forEach(note -> w.println("note: " + note));
            w.printf(Locale.ROOT, "wrote %s: %d tensors, %.1f MiB (language model)%n", out, plan.tensors().size(), bytes / 1048576.0);
            w.printf(Locale.ROOT, "wrote %s: %d tensors, %.1f MiB (mmproj: vision tower + projector%s)%n", mmOut,
                    mmPlan.tensors().size(), mmBytes / 1048576.0, tower != null ? " from " + tower.root() : "");
        }
        return mmOut;
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

package dev.ckpt.tools.cli;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.quant.QuantType;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt quantize SRC --type T --out FILE.gguf}: llama.cpp-compatible GGUF quantization. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize a Llama checkpoint (HF directory or f32/f16/bf16 GGUF) to a GGUF file, bit-exact with",
            "llama.cpp's reference quantizers and its per-tensor type mix."})
public final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "checkpoint directory, .gguf file, or hub repo id org/name[@rev]")
    Path source;

    @Option(names = "--type", required = true, paramLabel = "T",
            description = "Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q6_K Q4_K_S Q4_K_M Q5_K_S Q5_K_M (llama.cpp mixes), Q4_K Q5_K (pure)")
    String type;

    @Option(names = "--out", paramLabel = "FILE.gguf", description = "output file (required unless --dry-run)")
    Path out;

    @Option(names = "--dry-run", description = "print each tensor's chosen type and the output size; write nothing")
    boolean dryRun;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all processors)")
    int threads;

    @Option(names = "--force", description = "replace an existing output file")
    boolean force;

    @Option(names = "--json", description = "print the result (or the --dry-run plan) as one JSON object")
    boolean json;

    @picocli.CommandLine.Mixin
    VerifyMixin verify;

    @Override
    public Integer call() throws Exception {
        QuantType qt;
        try {
            qt = QuantType.parse(type);
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage());
        }
        if (out == null && !dryRun) {
            throw new CkptException(ExitCodes.USAGE, "--out FILE.gguf is required (or pass --dry-run)");
        }
        if (verify.enabled() && dryRun) {
            throw new CkptException(ExitCodes.USAGE, "--verify needs an output to verify; it does not combine with --dry-run");
        }
        if (out != null && !dryRun && Files.exists(out) && !force) {
            throw new CkptException(ExitCodes.BAD_INPUT, out + " already exists (pass --force to replace it)");
        }
        source = dev.ckpt.tools.source.SourceResolver.fromEnvironment().resolve(source.toString()); // path or org/name[@rev]
        PrintWriter w = spec.commandLine().getOut();
        int n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        boolean gguf = Files.isRegularFile(source) && source.getFileName().toString().endsWith(".gguf");
        long t0 = System.nanoTime();
        GgufExport.Plan plan;
        long written;
        if (gguf) {
            try (GgufFile f = GgufFile.open(source)) {
                plan = GgufExport.fromGguf(f, qt);
                written = dryRun ? 0 : GgufExport.write(plan, out, force, n, json ? dev.ckpt.formats.ProgressListener.NONE : TerminalProgress.forStderr("quantizing"));
            }
        } else {
            try (Checkpoint ck = Checkpoint.open(source)) {
                ck.requireNoProblems();
                plan = GgufExport.fromCheckpoint(ck, GgufExport.OutType.AUTO, qt);
                written = dryRun ? 0 : GgufExport.write(plan, out, force, n, json ? dev.ckpt.formats.ProgressListener.NONE : TerminalProgress.forStderr("quantizing"));
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        // the quantized GGUF read back dequantized, against the unquantized source (thresholds on top-1 and KL)
        var checked = dryRun ? java.util.Optional.<dev.ckpt.verify.SmokeReport>empty()
                : verify.run(out, new dev.ckpt.verify.Reference.Model(source), dev.ckpt.verify.Verify.Thresholds.LOSSY);
        if (json) {
            var m = new com.fasterxml.jackson.databind.ObjectMapper();
            var o = m.createObjectNode().put("type", qt.name()).put("ftype", qt.ftype()).put("tensors", plan.tensors().size())
                    .put("tensorBytes", plan.byteSize()).put("dryRun", dryRun);
            if (!dryRun) {
                o.put("out", out.toString()).put("fileBytes", written).put("seconds", Math.round(s * 1000) / 1000.0);
            }
            var arr = o.putArray("plan");
            for (GgufExport.Entry e : plan.tensors()) {
                var t = arr.addObject().put("name", e.name()).put("type", e.type().name());
                var ne = t.putArray("ne");
                for (long d : e.ne()) {
                    ne.add(d);
                }
            }
            var notes = o.putArray("notes");
            plan.notes().forEach(notes::add);
            VerifyMixin.addTo(o, checked);
            w.println(o);
            w.flush();
            VerifyMixin.requirePassed(checked, out);
            return ExitCodes.OK;
        }
        plan.notes().forEach(note -> w.println("note: " + note));
        if (dryRun) {
            for (GgufExport.Entry e : plan.tensors()) {
                w.printf("%-36s %-22s %s%n", e.name(), Arrays.toString(e.ne()), e.type());
            }
            w.printf("%d tensors, %.1f MiB of tensor data as %s%n", plan.tensors().size(), plan.byteSize() / 1048576.0, qt);
            return ExitCodes.OK;
        }
        w.printf("wrote %s: %d tensors, %.1f MiB, %s, %.1f s%n", out, plan.tensors().size(), written / 1048576.0, qt, s);
        VerifyMixin.printSummary(checked, w);
        VerifyMixin.requirePassed(checked, out);
        return ExitCodes.OK;
    }
}

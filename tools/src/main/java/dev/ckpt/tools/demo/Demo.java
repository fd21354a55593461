package dev.ckpt.tools.demo;

import dev.ckpt.formats.internal.AtomicFiles;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;

/**
 * {@code ckpt demo}: builds a tiny random-weight Llama checkpoint in the real Hugging Face layout
 * (mixed bf16/f32, two shards + index, config, tokenizer) and runs every capability on it, one
 * {@link DemoStep} each, printing what each did and how long it took.
 */
public final class Demo {
    private Demo() {
    }

    /** The steps, in order. Each capability adds its line here. */
    public static List<DemoStep> steps() {
        return List.of(
                new InspectStep(null),
                new ConvertStep(),
                new InspectStep("f16"),
                new TorchBinStep(),
                new DownloadStep(),
                new DeltaStep(),
                new LoraStep(),
                new QuantizeStep(),
                new LlavaGgufStep(),
                new VerifyStep());
    }

    /**
     * Runs all steps in a fresh temp directory (removed afterwards unless {@code keep}).
     *
     * @return the number of failed steps
     */
    public static int run(List<DemoStep> steps, PrintWriter out, boolean keep) throws IOException {
        Path work = Files.createTempDirectory("ckpt-demo-");
        try {
            long t0 = System.nanoTime();
            Path model = work.resolve("tiny-llama");
            var report = SyntheticLlama.write(model, SyntheticLlama.Options.tiny());
            out.printf(Locale.ROOT, "[build] tiny Llama (bf16 + f32 norms, %d shards + index, config, tokenizer) in %s  (%s)%n",
                    report.weightFiles().size(), model, millis(t0));
            out.flush();
            DemoContext ctx = new DemoContext(work, model, new HashMap<>(), out);
            int failed = 0;
            for (int i = 0; i < steps.size(); i++) {
                DemoStep step = steps.get(i);
                long t = System.nanoTime();
                String result;
                try {
                    result = "ok: " + step.run(ctx);
                } catch (Exception | LinkageError | AssertionError e) {
                    failed++;
                    result = "FAILED: " + (e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""));
                }
                out.printf(Locale.ROOT, "[%d/%d] %s: %s  (%s)%n", i + 1, steps.size(), step.name(), result, millis(t));
                out.flush();
            }
            out.printf("%s: %d of %d steps passed%s%n", failed == 0 ? "demo ok" : "demo FAILED", steps.size() - failed,
                    steps.size(), keep ? "; files kept in " + work : "");
            out.flush();
            return failed;
        } finally {
            if (!keep) {
                AtomicFiles.deleteQuietly(work);
            }
        }
    }

    private static String millis(long startNanos) {
        return String.format(Locale.ROOT, "%.0f ms", (System.nanoTime() - startNanos) / 1e6);
    }
}

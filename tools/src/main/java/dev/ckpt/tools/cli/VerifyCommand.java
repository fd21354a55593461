package dev.ckpt.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.tools.gguf.GgufSource;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.ReportFormats;
import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt verify}: smoke inference of a full model, optionally compared with a reference. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Smoke-infer a checkpoint through DJL (PyTorch) and check it; exit 5 when a check fails.",
        description = {"Loads every tensor, runs the real forward pass (LLaVA: CLIP tower, projector and image splice too), "
                + "greedy-decodes a few tokens and checks that every tensor was used and the logits are finite. "
                + "With --reference, compares logits position by position (max |delta|, top-1 agreement, KL). "
                + "A LLaVA language .gguf with --mmproj runs the image path on the mmproj's vision tower and projector."})
public final class VerifyCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SRC", description = "checkpoint directory, weight file, llama .gguf file or hub id org/name[@rev]")
    Path source;

    @Option(names = "--reference", paramLabel = "SRC", description = "checkpoint the model claims to equal (path or hub id)")
    Path reference;

    @Option(names = "--mmproj", paramLabel = "FILE", description = "with a language .gguf SRC of a LLaVA model: its mmproj GGUF"
            + " (vision tower + projector); the image path then runs on the mmproj's weights")
    Path mmproj;

    @Option(names = "--reference-lora", paramLabel = "DIR[:WEIGHT]", description = "apply this PEFT LoRA adapter to --reference at run time"
            + " (merge-lora's reference; repeatable, as merge-lora's --lora)")
    List<String> referenceLoras = new java.util.ArrayList<>();

    @Option(names = "--reference-delta", paramLabel = "DIR", description = "reference = --reference + this delta, summed in f32 (apply-delta's reference)")
    Path referenceDelta;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "DEVICE", description = "auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--dtype", defaultValue = "auto", paramLabel = "DTYPE", description = "compute dtype: auto, f32 or f16 (default: ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "prompt text (the question for LLaVA)")
    String prompt;

    @Option(names = "--prompt-ids", paramLabel = "IDS", split = ",", description = "token ids instead of text, e.g. 1,450,7483 (-200 = image)")
    List<Integer> promptIds;

    @Option(names = "--image", paramLabel = "FILE", description = "PNG/JPEG for LLaVA (default: a built-in test image)")
    Path image;

    @Option(names = "--vision-tower", paramLabel = "DIR", description = "local CLIP vision tower checkpoint for LLaVA")
    Path visionTower;

    @Option(names = "--tokens", defaultValue = "8", paramLabel = "N", description = "tokens to generate (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--threads", paramLabel = "N", description = "engine CPU threads (default: all cores; 1 is faster on a busy machine)")
    Integer threads;

    @Option(names = "--max-abs-delta", defaultValue = "0.01", paramLabel = "X", description = "largest allowed |logit delta| vs the reference (default: ${DEFAULT-VALUE})")
    double maxAbsDelta;

    @Option(names = "--min-top1", defaultValue = "1.0", paramLabel = "X", description = "smallest allowed top-1 agreement (default: ${DEFAULT-VALUE})")
    double minTop1;

    @Option(names = "--max-kl", defaultValue = "0.001", paramLabel = "X", description = "largest allowed mean KL in nats (default: ${DEFAULT-VALUE})")
    double maxKl;

    @Option(names = "--json", description = "print the report as JSON")
    boolean json;

    @Option(names = "--junit", paramLabel = "FILE", description = "also write the report as JUnit XML")
    Path junit;

    @Option(names = "--dump-logits", paramLabel = "FILE", description = "write the logits of every decoded position as JSON")
    Path dumpLogits;

    @Override
    public Integer call() throws IOException {
        if (prompt != null && promptIds != null) {
            throw new CkptException(ExitCodes.USAGE, "--prompt and --prompt-ids are exclusive");
        }
        if (threads != null) {
            // read once when the PyTorch engine starts, which happens inside Verify.run
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        if ((!referenceLoras.isEmpty() || referenceDelta != null) && reference == null) {
            throw new CkptException(ExitCodes.USAGE, "--reference-lora and --reference-delta need --reference BASE");
        }
        if (!referenceLoras.isEmpty() && referenceDelta != null) {
            throw new CkptException(ExitCodes.USAGE, "--reference-lora and --reference-delta are exclusive");
        }
        var resolver = dev.ckpt.tools.source.SourceResolver.fromEnvironment(); // paths or hub ids org/name[@rev]
        source = resolver.resolve(source.toString());
        reference = reference == null ? null : resolver.resolve(reference.toString());
        if (mmproj != null && !GgufSource.isGguf(source)) {
            throw new CkptException(ExitCodes.USAGE, "--mmproj pairs a vision GGUF with a language model .gguf; " + source
                    + " is not a .gguf file");
        }
        List<dev.ckpt.tools.ops.MergeLora.LoraSource> adapters = new java.util.ArrayList<>();
        for (String arg : referenceLoras) {
            dev.ckpt.tools.ops.MergeLora.LoraSource a;
            try {
                a = dev.ckpt.tools.ops.MergeLora.LoraSource.parse(arg);
            } catch (IllegalArgumentException e) {
                throw new CkptException(ExitCodes.USAGE, "--reference-lora " + arg + ": " + e.getMessage());
            }
            adapters.add(new dev.ckpt.tools.ops.MergeLora.LoraSource(resolver.resolve(a.dir().toString()), a.weight()));
        }
        referenceDelta = referenceDelta == null ? null : resolver.resolve(referenceDelta.toString());
        Reference ref = reference == null ? null : !adapters.isEmpty() ? dev.ckpt.tools.ops.OperationReferences.mergeLora(reference, adapters)
                : referenceDelta != null ? new Reference.WithDelta(reference, referenceDelta) : new Reference.Model(reference);
        if (mmproj != null && ref instanceof Reference.Model m) {
            dev.ckpt.tools.gguf.MmprojMatch.requireLlavaReference(m.path(), mmproj); // else the image prompt has nothing to compare with
        }
        Verify.Options options;
        Verify.Outcome outcome;
        try {
            options = new Verify.Options(source, ref, device, dtype, prompt, promptIds, image, visionTower, tokens,
                    new Verify.Thresholds(maxAbsDelta, minTop1, maxKl));
            // .gguf: dequantized on the fly; with --mmproj, paired with its vision tower + projector
            outcome = Verify.runWithLogits(options, GgufSource.opener(VerifyMixin.sideFilesFrom(ref), source, mmproj, visionTower));
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage(), e);
        }
        SmokeReport report = outcome.report();
        spec.commandLine().getOut().print(json ? ReportFormats.jsonText(report) + "\n" : ReportFormats.summary(report));
        spec.commandLine().getOut().flush();
        if (junit != null) {
            Files.writeString(junit, ReportFormats.junitXml(report));
        }
        if (dumpLogits != null) {
            writeLogits(dumpLogits, report, outcome.logits());
        }
        if (!report.passed()) {
            throw new CkptException(ExitCodes.VERIFY_FAILED, "verification failed: " + report.firstFailure().orElseThrow().name()
                    + ": " + report.firstFailure().orElseThrow().detail());
        }
        return ExitCodes.OK;
    }

    private static void writeLogits(Path file, SmokeReport report, float[][] logits) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        report.generatedIds().forEach(root.putArray("tokens")::add);
        ArrayNode rows = root.putArray("logits");
        for (float[] row : logits) {
            ArrayNode a = rows.addArray();
            for (float f : row) {
                a.add(f);
            }
        }
        m.writeValue(file.toFile(), root);
    }
}

package dev.ckpt.tools.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.tools.gguf.GgufSource;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.ReportFormats;
import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The {@code --verify} option group every operation mixes in ({@code @Mixin VerifyMixin verify;}):
 * after the operation, smoke-infer its output against the operation's reference (see
 * {@link Reference}) and fail with exit 5 when a check fails.
 *
 * <p>Commands use it in three steps: {@link #run} (no output, no exit), render their own result with
 * the report ({@link #printSummary} for text, {@link #addTo} for JSON), then {@link #requirePassed}.
 * {@link #runIfRequested} does all three for a command that already printed its result as text.
 */
public final class VerifyMixin {
    @Option(names = "--verify", description = "smoke-infer the output through DJL and compare it with its reference (exit 5 on failure)")
    boolean enabled;

    @Option(names = "--verify-device", defaultValue = "auto", paramLabel = "DEVICE", description = "auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--verify-tokens", defaultValue = "4", paramLabel = "N", description = "greedy tokens to compare (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--verify-junit", paramLabel = "FILE", description = "write the verification report as JUnit XML")
    Path junit;

    @Option(names = "--verify-max-abs-delta", paramLabel = "X", description = "override the operation's largest allowed |logit delta|")
    Double maxAbsDelta;

    @Option(names = "--verify-min-top1", paramLabel = "X", description = "override the operation's smallest allowed top-1 agreement")
    Double minTop1;

    @Option(names = "--verify-max-kl", paramLabel = "X", description = "override the operation's largest allowed mean KL (nats)")
    Double maxKl;

    /** Test-only: called with the output just before it is verified (tests corrupt it here); null normally. */
    interface BeforeVerify {
        void accept(Path output) throws IOException;
    }

    static volatile BeforeVerify testHook;

    /** True when {@code --verify} was given. */
    public boolean enabled() {
        return enabled;
    }

    /** {@code defaults} with the thresholds given on the command line put in. */
    Verify.Thresholds thresholds(Verify.Thresholds defaults) {
        return new Verify.Thresholds(maxAbsDelta != null ? maxAbsDelta : defaults.maxAbsLogitDelta(),
                minTop1 != null ? minTop1 : defaults.minTop1Agreement(), maxKl != null ? maxKl : defaults.maxMeanKl());
    }

    /**
     * Verifies {@code output} against {@code reference} (null: smoke pass only) when {@code --verify} was
     * given; writes {@code --verify-junit}. Does not print and does not fail on a failed check.
     *
     * @throws CkptException with exit 2 for an unusable device or option
     */
    public Optional<SmokeReport> run(Path output, Reference reference, Verify.Thresholds thresholds) throws IOException {
        return run(output, null, null, reference, thresholds);
    }

    /**
     * {@link #run(Path, Reference, Verify.Thresholds)} of a LLaVA language GGUF {@code output} paired with
     * its {@code mmproj} (null: the output alone), the reference's separate CLIP tower being {@code visionTower}
     * (null: inside the reference or none).
     */
    public Optional<SmokeReport> run(Path output, Path mmproj, Path visionTower, Reference reference, Verify.Thresholds thresholds)
            throws IOException {
        if (!enabled) {
            return Optional.empty();
        }
        BeforeVerify hook = testHook;
        if (hook != null) {
            hook.accept(output);
        }
        SmokeReport report;
        try {
            var options = new Verify.Options(output, reference, device, "auto", null, null, null, visionTower, tokens,
                    thresholds(thresholds));
            // a .gguf is dequantized on the fly; with an mmproj the image path runs on its tower and projector
            report = Verify.run(options, GgufSource.opener(sideFilesFrom(reference), output, mmproj, visionTower));
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage(), e);
        }
        if (junit != null) {
            Files.writeString(junit, ReportFormats.junitXml(report));
        }
        return Optional.of(report);
    }

    /** Where a GGUF candidate takes its tokenizer from: the reference's directory (the unquantized source). */
    static Path sideFilesFrom(Reference reference) {
        return switch (reference) {
            case null -> null;
            case Reference.Model m -> m.path();
            case Reference.WithLora l -> l.base();
            case Reference.WithDelta d -> d.delta();
        };
    }

    /** Prints the human summary of {@code report}, if any, after a {@code verification:} heading line. */
    public static void printSummary(Optional<SmokeReport> report, PrintWriter out) {
        report.ifPresent(r -> {
            out.println("verification: " + oneLine(r));
            out.print(ReportFormats.summary(r));
            out.flush();
        });
    }

    /** Adds {@code "verification": {...}} (docs/verify.md's report fields) to a command's JSON result. */
    public static void addTo(ObjectNode json, Optional<SmokeReport> report) {
        report.ifPresent(r -> json.set("verification", ReportFormats.json(r)));
    }

    /** @throws CkptException with exit 5 and a one-line reason when the report failed */
    public static void requirePassed(Optional<SmokeReport> report, Path output) {
        if (report.isPresent() && !report.get().passed()) {
            var f = report.get().firstFailure().orElseThrow();
            throw new CkptException(ExitCodes.VERIFY_FAILED, "verification of " + output + " failed: " + f.name() + ": " + f.detail());
        }
    }

    /** {@code PASS vs REF: max |Δlogit| ..., top-1 ..., KL ...} (or the smoke result without a reference). */
    public static String oneLine(SmokeReport r) {
        String verdict = r.passed() ? "PASS" : "FAIL";
        return r.comparison().map(c -> String.format(java.util.Locale.ROOT,
                        "%s vs %s: max |dlogit| %.3g, top-1 %.3f, mean KL %.3g nats over %d position(s)", verdict, c.reference(),
                        c.maxAbsLogitDelta(), c.top1Agreement(), c.meanKl(), c.positions()))
                .orElse(verdict + " (smoke pass, no reference): " + r.generatedIds().size() + " token(s) decoded"
                        + r.firstFailure().map(f -> "; " + f.name() + ": " + f.detail()).orElse(", every check passed"));
    }

    /**
     * {@link #run}, then (unless {@code quiet}) {@link #printSummary}, then {@link #requirePassed}: for
     * commands that printed their text result already.
     */
    public Optional<SmokeReport> runIfRequested(Path output, Reference reference, Verify.Thresholds thresholds, PrintWriter out,
                                                boolean quiet) throws IOException {
        return runIfRequested(output, null, null, reference, thresholds, out, quiet);
    }

    /** {@link #runIfRequested(Path, Reference, Verify.Thresholds, PrintWriter, boolean)} with the mmproj pairing of {@link #run(Path, Path, Path, Reference, Verify.Thresholds)}. */
    public Optional<SmokeReport> runIfRequested(Path output, Path mmproj, Path visionTower, Reference reference,
                                                Verify.Thresholds thresholds, PrintWriter out, boolean quiet) throws IOException {
        Optional<SmokeReport> report = run(output, mmproj, visionTower, reference, thresholds);
        if (!quiet) {
            printSummary(report, out);
        }
        requirePassed(report, output);
        return report;
    }
}

package dev.ckpt.tools.cli;

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

    /** True when {@code --verify} was given. */
    public boolean enabled() {
        return enabled;
    }

    /**
     * Verifies {@code output} against {@code reference} when {@code --verify} was given, printing the
     * summary (or nothing when {@code quiet}) to {@code out}.
     *
     * @throws CkptException with exit 5 when a check fails, 2 for an unusable device
     */
    public Optional<SmokeReport> runIfRequested(Path output, Reference reference, Verify.Thresholds thresholds, PrintWriter out,
                                                boolean quiet) throws IOException {
        if (!enabled) {
            return Optional.empty();
        }
        SmokeReport report;
        try {
            var options = new Verify.Options(output, reference, device, "auto", null, null, null, null, tokens, thresholds);
            report = Verify.run(options);
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage(), e);
        }
        if (!quiet) {
            out.print(ReportFormats.summary(report));
            out.flush();
        }
        if (junit != null) {
            Files.writeString(junit, ReportFormats.junitXml(report));
        }
        if (!report.passed()) {
            var f = report.firstFailure().orElseThrow();
            throw new CkptException(ExitCodes.VERIFY_FAILED, "verification of " + output + " failed: " + f.name() + ": " + f.detail());
        }
        return Optional.of(report);
    }
}

package dev.ckpt.verify;

import dev.ckpt.formats.FormatException;
import dev.ckpt.verify.SmokeReport.Check;
import dev.ckpt.verify.SmokeReport.Comparison;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The verification entry point ({@code ckpt verify}, and {@code --verify} of every operation):
 * smoke-infer a checkpoint and, when a reference is given, compare its logits with the
 * reference's at the same positions (the reference is teacher-forced with the candidate's greedy
 * tokens). The two models run one after the other, so peak memory is one model.
 */
public final class Verify {
    static {
        if (System.getProperty("slf4j.internal.verbosity") == null) {
            System.setProperty("slf4j.internal.verbosity", "ERROR"); // DJL logs through slf4j; no "no providers" banner
        }
    }

    private Verify() {
    }

    /**
     * Agreement thresholds for a reference comparison.
     *
     * @param maxAbsLogitDelta fail when any |Δlogit| exceeds this
     * @param minTop1Agreement fail when fewer positions than this fraction agree on the argmax
     * @param maxMeanKl fail when mean KL(reference || candidate) exceeds this (nats)
     */
    public record Thresholds(double maxAbsLogitDelta, double minTop1Agreement, double maxMeanKl) {
        /** Same model up to fp16 rounding (convert, apply-delta, merge-lora). */
        public static final Thresholds EXACT = new Thresholds(1e-2, 1.0, 1e-3);
        /**
         * Weights rounded to a narrower float (convert to f16/bf16): logits may move by the rounding,
         * the argmax should hold on nearly every position.
         */
        public static final Thresholds ROUNDED = new Thresholds(1.0, 0.875, 1e-2);
        /** Lossy outputs (quantize): logits may move, distributions must stay close. */
        public static final Thresholds LOSSY = new Thresholds(Double.POSITIVE_INFINITY, 0.6, 0.1);
    }

    /**
     * What to verify and how.
     *
     * @param model checkpoint directory or file
     * @param reference what to compare against, or null
     * @param device {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}
     * @param dtype {@code auto}, {@code f32} or {@code f16}
     * @param prompt prompt text (the question for LLaVA), or null for the built-in one
     * @param promptIds token ids to use instead of text (-200 = image for LLaVA), or null
     * @param image PNG/JPEG for LLaVA, or null for the built-in test image
     * @param visionTower separate CLIP tower checkpoint for LLaVA, or null
     * @param tokens greedy tokens to generate (at least 1)
     */
    public record Options(Path model, Reference reference, String device, String dtype, String prompt, List<Integer> promptIds,
                          Path image, Path visionTower, int tokens, Thresholds thresholds) {
        public Options {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(thresholds, "thresholds");
            device = device == null ? "auto" : device;
            dtype = dtype == null ? "auto" : dtype;
            promptIds = promptIds == null ? null : List.copyOf(promptIds);
            if (tokens < 1) {
                throw new IllegalArgumentException("--tokens must be at least 1, not " + tokens);
            }
        }

        /** Defaults: auto device and dtype, built-in prompt and image, 8 tokens, exact thresholds. */
        public static Options of(Path model) {
            return new Options(model, null, "auto", "auto", null, null, null, null, 8, Thresholds.EXACT);
        }

        /** Same options, compared against checkpoint {@code ref}. */
        public Options withReference(Path ref, Thresholds t) {
            return withReference(new Reference.Model(ref), t);
        }

        /** Same options, compared against {@code ref}. */
        public Options withReference(Reference ref, Thresholds t) {
            return new Options(model, ref, device, dtype, prompt, promptIds, image, visionTower, tokens, t);
        }
    }

    /**
     * Opens a model or reference path as a {@link WeightSource}. The default is {@link CheckpointSource#open}
     * (safetensors, {@code .bin}); callers that read other formats (a GGUF dequantized on the fly) pass
     * their own, falling back to the default.
     */
    @FunctionalInterface
    public interface Opener {
        WeightSource open(Path path) throws IOException;

        /** {@link CheckpointSource#open}. */
        Opener CHECKPOINT = CheckpointSource::open;
    }

    /** A report plus the raw logits of the decoded positions (for {@code --dump-logits}). */
    public record Outcome(SmokeReport report, float[][] logits) {
    }

    /**
     * Runs the smoke pass (and the reference comparison) described by {@code options}.
     *
     * @throws FormatException when an input is unreadable (exit 3)
     * @throws IllegalArgumentException for an unusable option such as a GPU the engine cannot see
     */
    public static SmokeReport run(Options options) throws IOException {
        return runWithLogits(options, Opener.CHECKPOINT).report();
    }

    /** {@link #run} with the model and references opened by {@code opener}. */
    public static SmokeReport run(Options options, Opener opener) throws IOException {
        return runWithLogits(options, opener).report();
    }

    /** {@link #run} that also returns the logits of every decoded position. */
    public static Outcome runWithLogits(Options options) throws IOException {
        return runWithLogits(options, Opener.CHECKPOINT);
    }

    /** {@link #runWithLogits(Options)} with the model and references opened by {@code opener}. */
    public static Outcome runWithLogits(Options options, Opener opener) throws IOException {
        EngineThreads.configure();
        int[] ids = options.promptIds() == null ? null : options.promptIds().stream().mapToInt(Integer::intValue).toArray();
        SmokeRun.Settings settings = new SmokeRun.Settings(options.device(), options.dtype(), options.prompt(), ids,
                options.image(), options.visionTower(), options.tokens(), List.of());
        SmokeRun.Result cand;
        try (WeightSource src = opener.open(options.model())) {
            cand = SmokeRun.run(src, settings, null);
        }
        List<Check> checks = new ArrayList<>(cand.checks());
        Optional<Comparison> comparison = Optional.empty();
        if (options.reference() != null && cand.generated().length > 0) {
            SmokeRun.Result ref;
            // the reference runs at its own natural precision ("auto"), on the same device
            List<Reference.Adapter> adapters = options.reference() instanceof Reference.WithLora l ? l.adapters() : List.of();
            SmokeRun.Settings forcedIds = new SmokeRun.Settings(settings.device(), "auto", null, cand.promptIds(),
                    settings.image(), settings.visionTower(), settings.tokens(), adapters);
            try (WeightSource src = openReference(options.reference(), opener)) {
                ref = SmokeRun.run(src, forcedIds, cand.generated());
            }
            Optional<Check> refFailure = ref.checks().stream().filter(c -> !c.passed()).findFirst();
            refFailure.ifPresent(f -> checks.add(new Check("reference-runs", false, "reference "
                    + options.reference().describe() + ": " + f.name() + ": " + f.detail())));
            if (ref.logits().length > 0) {
                Comparison c = LogitComparison.compare(options.reference().describe(), cand.logits(), ref.logits());
                comparison = Optional.of(c);
                checks.addAll(thresholdChecks(c, options.thresholds()));
            }
        }
        SmokeReport report = new SmokeReport(options.model().toString(), cand.architecture(), cand.plan().device().toString(),
                cand.plan().computeType().toString().toLowerCase(java.util.Locale.ROOT), cand.tensorCount(), cand.parameterCount(),
                cand.loadMillis(), cand.prefillTokens(), cand.prefillTokensPerSecond(), cand.decodeTokensPerSecond(),
                PeakMemory.peakRssBytes(), boxed(cand.promptIds()), boxed(cand.generated()), cand.text(), checks, comparison);
        return new Outcome(report, cand.logits());
    }

    private static WeightSource openReference(Reference ref, Opener opener) throws IOException {
        return switch (ref) {
            case Reference.Model m -> opener.open(m.path());
            case Reference.WithLora l -> opener.open(l.base());
            case Reference.WithDelta d -> {
                WeightSource base = opener.open(d.base());
                try {
                    yield new SummedSource(base, opener.open(d.delta()));
                } catch (IOException | RuntimeException e) {
                    base.close();
                    throw e;
                }
            }
        };
    }

    private static List<Check> thresholdChecks(Comparison c, Thresholds t) {
        return List.of(
                new Check("max-abs-logit-delta", c.maxAbsLogitDelta() <= t.maxAbsLogitDelta(),
                        String.format(java.util.Locale.ROOT, "%.3g (limit %.3g) over %d position(s)", c.maxAbsLogitDelta(), t.maxAbsLogitDelta(), c.positions())),
                new Check("top1-agreement", c.top1Agreement() >= t.minTop1Agreement(),
                        String.format(java.util.Locale.ROOT, "%.3f (minimum %.3f)", c.top1Agreement(), t.minTop1Agreement())),
                new Check("kl-divergence", c.meanKl() <= t.maxMeanKl(),
                        String.format(java.util.Locale.ROOT, "mean %.3g, max %.3g nats (limit %.3g)", c.meanKl(), c.maxKl(), t.maxMeanKl())));
    }

    private static List<Integer> boxed(int[] a) {
        return Arrays.stream(a).boxed().toList();
    }
}

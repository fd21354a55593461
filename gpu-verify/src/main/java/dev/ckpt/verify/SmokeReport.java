package dev.ckpt.verify;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one smoke-inference pass: what was run where, how fast, what it produced, and
 * every check with its verdict. {@link #passed()} is the verdict the CLI maps to exit 0 or 5.
 *
 * @param model the verified checkpoint (as given)
 * @param architecture config.json architecture, e.g. {@code LlamaForCausalLM}
 * @param device engine device, e.g. {@code cpu()} or {@code gpu(0)}
 * @param computeType dtype the weights were computed in (float32 or float16)
 * @param tensorCount tensors in the checkpoint
 * @param parameterCount elements over all tensors
 * @param loadMillis time to move every weight into the engine
 * @param prefillTokens sequence length of the prompt pass (image tokens included)
 * @param prefillTokensPerSecond prompt tokens per second of the prefill pass
 * @param decodeTokensPerSecond generated tokens per second after the first (0 when fewer than 2)
 * @param peakRssBytes peak resident set size of this process so far (VmHWM), -1 when unknown
 * @param promptIds token ids fed to the model (-200 marks the image position for LLaVA)
 * @param generatedIds greedy tokens
 * @param generatedText greedy tokens decoded, empty without a tokenizer
 * @param checks every check made, in order
 * @param comparison agreement with the reference, when one was given
 */
public record SmokeReport(String model, String architecture, String device, String computeType, int tensorCount,
                          long parameterCount, long loadMillis, int prefillTokens, double prefillTokensPerSecond,
                          double decodeTokensPerSecond, long peakRssBytes, List<Integer> promptIds,
                          List<Integer> generatedIds, String generatedText, List<Check> checks,
                          Optional<Comparison> comparison) {

    public SmokeReport {
        promptIds = List.copyOf(promptIds);
        generatedIds = List.copyOf(generatedIds);
        checks = List.copyOf(checks);
        Objects.requireNonNull(comparison, "comparison");
    }

    /** One named check, e.g. {@code tensors-used}; {@code detail} says what was seen. */
    public record Check(String name, boolean passed, String detail) {
    }

    /**
     * Candidate vs reference logits over the decoded positions (the reference is teacher-forced
     * with the candidate's tokens so positions line up).
     *
     * @param reference the reference checkpoint
     * @param positions positions compared
     * @param maxAbsLogitDelta largest |candidate - reference| logit over all compared positions
     * @param top1Agreement fraction of positions whose argmax agrees
     * @param meanKl mean KL(reference || candidate) in nats
     * @param maxKl largest per-position KL
     */
    public record Comparison(String reference, int positions, double maxAbsLogitDelta, double top1Agreement,
                             double meanKl, double maxKl) {
    }

    /** True when every check passed. */
    public boolean passed() {
        return checks.stream().allMatch(Check::passed);
    }

    /** The first failed check, for one-line error messages. */
    public Optional<Check> firstFailure() {
        return checks.stream().filter(c -> !c.passed()).findFirst();
    }
}

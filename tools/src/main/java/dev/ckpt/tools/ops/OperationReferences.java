package dev.ckpt.tools.ops;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.verify.Reference;
import dev.ckpt.verify.Verify;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What each operation's output is verified against ({@code --verify}, {@code ckpt demo}), per the
 * verification contract: apply-delta: base + delta in F32; merge-lora: the base with the adapters
 * applied at run time, unmerged; convert / quantize: the source. And how close it must be.
 */
public final class OperationReferences {
    private OperationReferences() {
    }

    /**
     * merge-lora's reference: {@code base} with every adapter applied at run time with its weight.
     *
     * @throws IllegalArgumentException when an adapter has parts the runtime reference cannot apply
     *     (LLaVA {@code non_lora_trainables}: replaced tensors, not a low-rank term)
     */
    public static Reference mergeLora(Path base, List<MergeLora.LoraSource> adapters) {
        for (MergeLora.LoraSource a : adapters) {
            for (String f : List.of("non_lora_trainables.bin", "non_lora_trainables.safetensors")) {
                if (Files.exists(a.dir().resolve(f))) {
                    throw new IllegalArgumentException("--verify: " + a.dir() + " has " + f + " (LLaVA LoRA); the runtime LoRA"
                            + " reference applies PEFT low-rank pairs only. Merge without --verify, then run"
                            + " `ckpt verify OUT` for a smoke pass");
                }
            }
        }
        return new Reference.WithLora(base, adapters.stream().map(a -> new Reference.Adapter(a.dir(), a.weight())).toList());
    }

    /** apply-delta's reference: base + delta summed in F32, unrounded. */
    public static Reference applyDelta(Path base, Path delta) {
        return new Reference.WithDelta(base, delta);
    }

    /**
     * Thresholds for an output written from an F32 computation with one rounding into its own dtype
     * (apply-delta, merge-lora): {@link Verify.Thresholds#EXACT} when every float tensor of
     * {@code output} is F32, {@link #HALF_ROUNDED} when some are F16/BF16.
     */
    public static Verify.Thresholds roundedOnce(Path output) throws IOException {
        try (Checkpoint c = Checkpoint.open(output)) {
            boolean allF32 = c.tensors().stream().map(TensorInfo::dtype).allMatch(d -> d == DType.F32 || !d.isComputeFloat());
            return allF32 ? Verify.Thresholds.EXACT : HALF_ROUNDED;
        }
    }

    /**
     * Why {@code dir} (a downloaded snapshot) is not a model that a smoke pass can run, or empty when it
     * is one: a {@code config.json} and weight files, and not a PEFT adapter. Decided from the files only.
     */
    public static java.util.Optional<String> whyNotAModel(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return java.util.Optional.empty(); // a single weight file: let verify judge it
        }
        if (Files.exists(dir.resolve("adapter_config.json"))) {
            return java.util.Optional.of("a PEFT adapter, not a full model (verify it with merge-lora --verify)");
        }
        if (!Files.exists(dir.resolve("config.json"))) {
            return java.util.Optional.of("no config.json: not a model checkpoint");
        }
        try (var files = Files.list(dir)) {
            boolean weights = files.map(f -> f.getFileName().toString()).anyMatch(n -> n.endsWith(".safetensors")
                    || n.endsWith(".gguf") || (n.endsWith(".bin") && !n.equals("training_args.bin")));
            return weights ? java.util.Optional.empty() : java.util.Optional.of("no weight files (.safetensors, .bin)");
        }
    }

    /**
     * One rounding of every weight into F16/BF16 against the unrounded F32 sum: logits move by the
     * rounding (BF16 has 8 significant bits), distributions must stay as close as the source's.
     */
    public static final Verify.Thresholds HALF_ROUNDED = new Verify.Thresholds(0.1, 1.0, 1e-3);
}

package dev.ckpt.verify;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a verified model is compared against: the thing its operation claims it equals.
 * {@link Model} for convert and quantize (the source), {@link WithLora} for merge-lora (the base
 * with the PEFT adapter applied at run time, unmerged), {@link WithDelta} for apply-delta (base +
 * delta summed in F32).
 */
public sealed interface Reference {
    /** Short description for reports. */
    String describe();

    /** Another checkpoint, as is. */
    record Model(Path path) implements Reference {
        public Model {
            Objects.requireNonNull(path, "path");
        }

        @Override
        public String describe() {
            return path.toString();
        }
    }

    /** {@code base} with the PEFT LoRA adapter in {@code adapter} applied at run time ({@code W x + s·B(A x)}). */
    record WithLora(Path base, Path adapter) implements Reference {
        public WithLora {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(adapter, "adapter");
        }

        @Override
        public String describe() {
            return base + " + LoRA " + adapter + " (unmerged)";
        }
    }

    /**
     * {@code base + delta} element-wise in F32; tensors only in the delta are taken as they are, and a
     * delta larger than the base (grown vocabulary) gets the base added to its leading block, as
     * LLaVA's {@code apply_delta.py} does. Config and tokenizer come from the delta.
     */
    record WithDelta(Path base, Path delta) implements Reference {
        public WithDelta {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(delta, "delta");
        }

        @Override
        public String describe() {
            return base + " + delta " + delta + " (f32)";
        }
    }
}

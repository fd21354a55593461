package dev.ckpt.verify;

import java.nio.file.Path;
import java.util.List;
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

    /** One PEFT LoRA adapter directory and the weight multiplying its delta (1 = as trained). */
    record Adapter(Path dir, double weight) {
        public Adapter {
            Objects.requireNonNull(dir, "dir");
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException("adapter weight must be finite, not " + weight);
            }
        }
    }

    /**
     * {@code base} with PEFT LoRA adapters applied at run time, unmerged: every adapted linear computes
     * {@code W x + sum_i weight_i · s_i · B_i (A_i x)} (merge-lora's reference for {@code --lora DIR[:WEIGHT]}, in order).
     */
    record WithLora(Path base, List<Adapter> adapters) implements Reference {
        public WithLora {
            Objects.requireNonNull(base, "base");
            adapters = List.copyOf(adapters);
            if (adapters.isEmpty()) {
                throw new IllegalArgumentException("a LoRA reference needs at least one adapter");
            }
        }

        /** One adapter at weight 1. */
        public WithLora(Path base, Path adapter) {
            this(base, List.of(new Adapter(adapter, 1.0)));
        }

        @Override
        public String describe() {
            StringBuilder b = new StringBuilder(base.toString());
            for (Adapter a : adapters) {
                b.append(" + LoRA ").append(a.dir());
                if (a.weight() != 1.0) {
                    b.append(" x").append(a.weight());
                }
            }
            return b.append(" (unmerged)").toString();
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

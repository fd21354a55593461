package dev.ckpt.tools.ops;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.lora.LoraAdapter;
import dev.ckpt.tools.ops.lora.LoraPlanner;
import dev.ckpt.tools.ops.plan.OutputPlan;
import dev.ckpt.tools.ops.plan.PlanExecution;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Merges PEFT LoRA adapters (and LLaVA LoRA folders) into their base model:
 * {@code W' = round(W + Σ_k w_k · s_k · B_k·A_k)} with f32 accumulation and one RNE rounding into
 * the base dtype (PEFT >= 0.12 semantics for a single adapter), rsLoRA, {@code rank_pattern} /
 * {@code alpha_pattern}, {@code fan_in_fan_out}, DoRA, embedding LoRA, {@code lora_bias},
 * {@code modules_to_save} and LLaVA {@code non_lora_trainables} (algorithms.md 2). The kind of each
 * input is decided from its files, never from its folder name.
 *
 * <p>Memory: each adapted tensor is streamed in row blocks; per worker the heap holds a few
 * 1 MiB blocks plus the adapter's right factor (rank × row length), never a whole model.
 */
public final class MergeLora {
    private MergeLora() {
    }

    /**
     * One {@code --lora} argument: a folder and the multiplier of its ΔW.
     *
     * @param dir    adapter folder
     * @param weight multiplier, 1 = as trained
     */
    public record LoraSource(Path dir, double weight) {
        private static final Pattern WITH_WEIGHT = Pattern.compile("^(.+):([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$");

        public LoraSource {
            Objects.requireNonNull(dir, "dir");
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException("adapter weight must be finite: " + weight);
            }
        }

        /** Parses {@code SRC[:WEIGHT]}; a trailing {@code :number} is the weight. */
        public static LoraSource parse(String spec) {
            Matcher m = WITH_WEIGHT.matcher(spec);
            if (m.matches()) {
                return new LoraSource(Path.of(m.group(1)), Double.parseDouble(m.group(2)));
            }
            return new LoraSource(Path.of(spec), 1.0);
        }
    }

    /**
     * @param base     the base model (directory or file)
     * @param adapters one or more adapters, applied in order
     * @param out      output directory (required unless dryRun)
     * @param dryRun   plan and check only
     * @param write    shard size, force, threads
     */
    public record Options(Path base, List<LoraSource> adapters, Path out, boolean dryRun, WriteOptions write) {
        public Options {
            Objects.requireNonNull(base, "base");
            Objects.requireNonNull(write, "write");
            adapters = List.copyOf(adapters);
            if (adapters.isEmpty()) {
                throw new IllegalArgumentException("at least one --lora adapter is required");
            }
            if (out == null && !dryRun) {
                throw new IllegalArgumentException("an output directory is required unless dryRun");
            }
        }
    }


    /** Plans the merge without reading tensor bytes; see {@link LoraPlanner}. */
    public static OutputPlan plan(Checkpoint base, List<LoraAdapter> adapters) {
        return LoraPlanner.plan(base, adapters);
    }

    /**
     * Opens the base and every adapter, plans, and writes the merged model unless {@code dryRun}.
     *
     * @throws dev.ckpt.tools.ops.plan.PlanException when the checks fail (nothing written)
     * @throws dev.ckpt.formats.FormatException when an input is not what it must be
     */
    public static PlanReport run(Options o, ProgressListener listener) throws IOException {
        List<LoraAdapter> opened = new ArrayList<>();
        try (Checkpoint base = Checkpoint.open(o.base())) {
            for (int i = 0; i < o.adapters().size(); i++) {
                LoraSource s = o.adapters().get(i);
                opened.add(LoraAdapter.open(s.dir(), i + 1, s.weight()));
            }
            OutputPlan plan = plan(base, opened);
            List<Path> inputs = new ArrayList<>(List.of(o.base()));
            o.adapters().forEach(a -> inputs.add(a.dir()));
            return new PlanReport(plan, PlanExecution.execute(plan, o.out(), inputs, o.dryRun(), o.write(), listener));
        } finally {
            opened.forEach(LoraAdapter::close);
        }
    }
}

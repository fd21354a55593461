package dev.ckpt.tools.ops.delta;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.tools.ops.kernel.DeltaKernel;
import dev.ckpt.tools.ops.kernel.Recipes;
import dev.ckpt.tools.ops.plan.ConfigCheck;
import dev.ckpt.tools.ops.plan.Diagnostics;
import dev.ckpt.tools.ops.plan.OutputPlan;
import dev.ckpt.tools.ops.plan.TensorChange;
import dev.ckpt.tools.ops.plan.TokenizerCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Plans apply-delta ({@code target = delta + base}) and make-delta ({@code delta = target - base})
 * with LLaVA's rules (algorithms.md 1.1, 1.3): tensors of equal shape are combined; only
 * {@code embed_tokens}/{@code lm_head} may have more rows than the base (top-left block rule, extra
 * rows kept as stored); tensors only in the delta/target must be projector tensors and are copied;
 * {@code rotary_emb.inv_freq} buffers are copied from the base instead of added. Strict mode is
 * FastChat's: identical names and shapes. The output order, dtypes, config and tokenizer are those
 * of the delta/target. Planning reads configs and tokenizers, never tensor bytes.
 */
public final class DeltaPlanner {
    /** Which operation is planned. */
    public enum Direction {
        /** apply-delta: the other input is a delta. */
        APPLY("delta", DeltaKernel.Op.ADD, "add"),
        /** make-delta: the other input is the fine-tuned target. */
        MAKE("target", DeltaKernel.Op.SUBTRACT, "subtract");

        final String role;
        final DeltaKernel.Op op;
        final String verb;

        Direction(String role, DeltaKernel.Op op, String verb) {
            this.role = role;
            this.op = op;
            this.verb = verb;
        }
    }

    private static final int LISTED = 3;

    private DeltaPlanner() {
    }

    /**
     * Plans the output. Errors are collected in the plan's diagnostics (nothing thrown for a
     * mismatch); the checkpoints and the readers (over the same checkpoints, through which the
     * recipes stream the tensor bytes) must stay open until the plan is written.
     */
    public static OutputPlan plan(Checkpoint base, TensorRangeReader baseReader, Checkpoint other,
                                  TensorRangeReader otherReader, Direction dir, boolean strict) {
        Diagnostics d = new Diagnostics();
        String role = dir.role;
        base.problems().forEach(p -> d.warning("base: " + p));
        other.problems().forEach(p -> d.warning(role + ": " + p));
        ConfigCheck.rejectQuantized(base, "base", d);
        ConfigCheck.rejectQuantized(other, role, d);
        if (looksSwapped(base, other, role, d)) {
            return new OutputPlan(List.of(), List.of(), List.of(), d.list());
        }
        Optional<ObjectNode> bc = base.config();
        Optional<ObjectNode> oc = other.config();
        if (bc.isPresent() && oc.isPresent()) {
            ConfigCheck.compare(bc.get(), oc.get(), role, !strict, d);
        }
        TokenizerCheck.compare(base.sideFiles(), other.sideFiles(), role, d);

        List<PlannedTensor> out = new ArrayList<>();
        List<TensorChange> changes = new ArrayList<>();
        List<String> notInBase = new ArrayList<>();
        List<String> shapeMismatches = new ArrayList<>();
        for (TensorInfo t : other.tensors()) {
            Optional<TensorInfo> b = base.tensor(t.name());
            if (b.isEmpty()) {
                if (!strict && isProjector(t.name())) {
                    out.add(new PlannedTensor(t, Recipes.streamedCopy(other, otherReader, t, t.dtype())));
                    changes.add(new TensorChange(t.name(), "copy", role + " (only in the " + role + ", absolute values)"));
                } else {
                    notInBase.add(t.name());
                }
                continue;
            }
            TensorInfo bi = b.get();
            if (isInvFreq(t.name()) && dir == Direction.APPLY && bi.shape().equals(t.shape())) {
                out.add(new PlannedTensor(t, Recipes.streamedCopy(base, baseReader, bi, t.dtype())));
                changes.add(new TensorChange(t.name(), "copy", "base (rotary buffer, never added)"));
                continue;
            }
            if (!t.dtype().isComputeFloat() || !bi.dtype().isComputeFloat()) {
                d.error("tensor '" + t.name() + "' is " + bi.dtype() + " in the base and " + t.dtype() + " in the " + role
                        + "; only F32/F16/BF16 tensors can be " + (dir == Direction.APPLY ? "added" : "subtracted")
                        + " (a quantized model cannot be a base: use the full-precision weights)");
                continue;
            }
            if (bi.shape().equals(t.shape())) {
                out.add(new PlannedTensor(t, Recipes.delta(baseReader, bi, otherReader, t, dir.op)));
                changes.add(new TensorChange(t.name(), dir.verb, "base, " + role));
            } else if (!strict && isVocabTensor(t.name()) && t.shape().rank() == 2 && bi.shape().rank() == 2
                    && t.shape().dim(1) == bi.shape().dim(1) && t.shape().dim(0) > bi.shape().dim(0)) {
                out.add(new PlannedTensor(t, Recipes.delta(baseReader, bi, otherReader, t, dir.op)));
                changes.add(new TensorChange(t.name(), dir.verb + "-top-rows", "base rows 0.." + (bi.shape().dim(0) - 1)
                        + ", rows " + bi.shape().dim(0) + ".." + (t.shape().dim(0) - 1) + " from the " + role + " as stored"));
                d.note(t.name() + ": " + role + " has " + t.shape().dim(0) + " rows, base " + bi.shape().dim(0)
                        + "; the added rows keep the " + role + "'s values");
            } else if (isVocabTensor(t.name()) && t.shape().rank() == 2 && t.shape().dim(0) < bi.shape().dim(0)) {
                d.error(t.name() + " has " + bi.shape().dim(0) + " rows in the base but only " + t.shape().dim(0)
                        + " in the " + role + "; the base must have the smaller vocabulary (are the inputs swapped?)");
            } else {
                shapeMismatches.add(t.name() + " base " + bi.shape() + " vs " + role + " " + t.shape());
            }
        }
        report(d, notInBase, "tensor(s) of the " + role + " are not in the base", strict
                ? "strict mode needs identical names" : "only mm_projector.* / image_newline may be " + role + "-only; is the base the right model?");
        report(d, shapeMismatches, "shape mismatch(es)", (strict ? "strict mode allows no vocab growth; " : "")
                + "the base is a different model size or family");
        List<String> baseOnly = new ArrayList<>();
        for (TensorInfo b : base.tensors()) {
            if (other.tensor(b.name()).isEmpty() && !isInvFreq(b.name())) {
                baseOnly.add(b.name());
            }
        }
        if (dir == Direction.APPLY) {
            report(d, baseOnly, "base tensor(s) are missing from the delta", "incomplete download, or a delta for another model?");
        } else if (!baseOnly.isEmpty()) {
            d.warning(baseOnly.size() + " base tensor(s) are not in the target and are left out of the delta, e.g. "
                    + String.join(", ", baseOnly.subList(0, Math.min(LISTED, baseOnly.size()))));
        }
        return new OutputPlan(out, sideFiles(base, other), changes, d.list());
    }

    /** Base side files overlaid by the other input's: config and tokenizer come from the delta/target. */
    static List<SideFile> sideFiles(Checkpoint base, Checkpoint other) {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path p : base.sideFiles()) {
            byName.put(p.getFileName().toString(), p);
        }
        for (Path p : other.sideFiles()) {
            byName.put(p.getFileName().toString(), p);
        }
        List<SideFile> out = new ArrayList<>();
        byName.forEach((name, p) -> out.add(new SideFile.Copy(p, name)));
        return out;
    }

    private static boolean looksSwapped(Checkpoint base, Checkpoint other, String role, Diagnostics d) {
        boolean baseProjector = base.tensors().stream().anyMatch(t -> isProjector(t.name()));
        boolean otherProjector = other.tensors().stream().anyMatch(t -> isProjector(t.name()));
        boolean baseLlava = base.config().map(DeltaPlanner::isLlavaConfig).orElse(false);
        boolean otherLlava = other.config().map(DeltaPlanner::isLlavaConfig).orElse(false);
        if ((baseProjector && !otherProjector) || (baseLlava && !otherLlava)) {
            d.error("--base looks like the LLaVA model (" + (baseProjector ? "it has mm_projector tensors" : "its config is LLaVA's")
                    + ") and the " + role + " like the plain language model: are --base and --" + role + " swapped?");
            return true;
        }
        return false;
    }

    private static boolean isLlavaConfig(ObjectNode c) {
        return c.path("model_type").asText("").startsWith("llava") || c.has("mm_vision_tower")
                || c.path("architectures").path(0).asText("").startsWith("Llava");
    }

    /** One error for a list of names: "N what: a, b, c, ... (advice)". */
    private static void report(Diagnostics d, List<String> items, String what, String advice) {
        if (items.isEmpty()) {
            return;
        }
        String listed = String.join(", ", items.subList(0, Math.min(LISTED, items.size())));
        d.error(items.size() + " " + what + ": " + listed + (items.size() > LISTED ? ", ..." : "") + " (" + advice + ")");
    }

    /** Tensors that may grow by LLaVA's added tokens. */
    static boolean isVocabTensor(String name) {
        return name.endsWith("embed_tokens.weight") || name.equals("lm_head.weight") || name.endsWith(".wte.weight");
    }

    /** Tensors that exist only in LLaVA deltas and hold absolute values. */
    static boolean isProjector(String name) {
        return name.contains("mm_projector.") || name.endsWith("image_newline");
    }

    static boolean isInvFreq(String name) {
        return name.endsWith("rotary_emb.inv_freq");
    }
}

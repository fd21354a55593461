package dev.ckpt.tools.ops.lora;

import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.tools.ops.lora.AdapterKey.Role;
import dev.ckpt.tools.ops.plan.Diagnostics;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Turns one adapter's tensors into planned {@link LoraTerm}s and whole-tensor replacements,
 * checking every shape against the tensor it will update (algorithms.md 2.3-2.4). Reads tensor
 * infos only.
 */
final class LoraModules {
    /** A whole tensor from an adapter (modules_to_save, non_lora_trainables) replacing or adding an output tensor. */
    record Replacement(TensorInfo info, dev.ckpt.formats.Checkpoint source, String sourceName, String label) {
    }

    private LoraModules() {
    }

    /**
     * Collects the adapter's replacements into {@code replacements} (keyed by output name).
     * Errors go to {@code d}.
     */
    static void collectReplacements(LoraAdapter a, Map<String, Replacement> replacements, Diagnostics d) {
        for (TensorInfo t : a.weights().tensors()) {
            AdapterKey k = AdapterKey.parse(t.name());
            if (k.role() == Role.FULL) {
                put(replacements, new Replacement(t.withName(k.module()), a.weights(), t.name(), a.label()), d);
            } else if (k.role() == Role.UNKNOWN_LORA) {
                d.error(a.label() + ": key '" + t.name() + "' is not a LoRA tensor this tool can merge (only lora_A/lora_B,"
                        + " lora_embedding_A/B, lora_magnitude_vector); is it an AdaLoRA/VeRA/other adapter?");
            }
        }
        a.trainables().ifPresent(tr -> {
            Map<String, String> renamed = LlavaTrainables.rename(tr.tensors().stream().map(TensorInfo::name).toList());
            for (TensorInfo t : tr.tensors()) {
                String name = renamed.get(t.name());
                put(replacements, new Replacement(t.withName(name), tr, t.name(), a.label() + " non_lora_trainables"), d);
            }
        });
    }

    private static void put(Map<String, Replacement> replacements, Replacement r, Diagnostics d) {
        Replacement prev = replacements.put(r.info().name(), r);
        if (prev != null && !prev.label().startsWith(r.label().split(" non_lora")[0])) {
            d.error("tensor '" + r.info().name() + "' is replaced by both " + prev.label() + " and " + r.label()
                    + "; merge such adapters one at a time");
        }
    }

    /**
     * Plans the low-rank terms of one adapter, appending them per output tensor name to {@code terms}.
     *
     * @param shapeOf the output tensor an update applies to (replacement or base), by name
     */
    static void collectTerms(LoraAdapter a, Function<String, Optional<TensorInfo>> shapeOf,
                             Map<String, List<LoraTerm>> terms, Diagnostics d) {
        Map<String, EnumMap<Role, TensorInfo>> modules = new LinkedHashMap<>();
        for (TensorInfo t : a.weights().tensors()) {
            AdapterKey k = AdapterKey.parse(t.name());
            if (k.role() == Role.FULL || k.role() == Role.UNKNOWN_LORA) {
                continue;
            }
            if (modules.computeIfAbsent(k.module(), x -> new EnumMap<>(Role.class)).put(k.role(), t) != null) {
                d.error(a.label() + ": two tensors give " + k.role() + " of module " + k.module());
            }
        }
        List<String> unmatched = new ArrayList<>();
        PeftConfig cfg = a.config();
        for (var e : modules.entrySet()) {
            String m = e.getKey();
            EnumMap<Role, TensorInfo> p = e.getValue();
            boolean embedding = p.containsKey(Role.EMBEDDING_A) || p.containsKey(Role.EMBEDDING_B);
            TensorInfo first = p.get(embedding ? Role.EMBEDDING_A : Role.LORA_A);
            TensorInfo second = p.get(embedding ? Role.EMBEDDING_B : Role.LORA_B);
            if (first == null || second == null) {
                d.error(a.label() + ": module " + m + " has " + (first == null ? "no lora_A" : "no lora_B")
                        + (embedding ? " (embedding)" : "") + "; the adapter file is incomplete");
                continue;
            }
            Optional<TensorInfo> target = shapeOf.apply(m + ".weight");
            if (target.isEmpty()) {
                unmatched.add(m);
                continue;
            }
            TensorInfo w = target.get();
            if (!w.dtype().isComputeFloat()) {
                d.error(w.name() + " is " + w.dtype() + " (quantized) in the base; LoRA is never merged into quantized"
                        + " weights: merge into the fp16/bf16/fp32 base and quantize afterwards");
                continue;
            }
            int r = (int) first.shape().dim(0);
            if (cfg.rankFor(m) != r) {
                d.error(a.label() + ": adapter_config.json gives rank " + cfg.rankFor(m) + " for " + m + " but "
                        + first.name() + " has " + r + " rows");
                continue;
            }
            float scale = (float) (cfg.scaleFor(m, r) * a.weight());
            if (!Float.isFinite(scale)) {
                // an alpha like 1e308 overflows PyTorch's f32 factor too, and every merged weight would be inf or NaN
                d.error(a.label() + ": the scaling of " + m + " (lora_alpha " + cfg.alphaFor(m) + " / rank " + r
                        + (a.weight() == 1 ? "" : ", times weight " + a.weight()) + ") is " + scale + " in f32;"
                        + " every merged weight would be inf or NaN");
                continue;
            }
            LoraTerm.Kind kind = embedding ? LoraTerm.Kind.EMBEDDING : linearKind(a, m, first, second, w, r, d);
            if (kind == null) {
                continue;
            }
            if (embedding && !fitsEmbedding(first, second, w, r)) {
                d.error(a.label() + ": embedding " + m + " has lora_embedding_A " + first.shape() + " and lora_embedding_B "
                        + second.shape() + ", which do not fit " + w.name() + " " + w.shape());
                continue;
            }
            String magnitude = magnitude(a, m, p.get(Role.MAGNITUDE), kind, w, d);
            if (cfg.useDora() && magnitude == null) {
                continue;
            }
            terms.computeIfAbsent(w.name(), x -> new ArrayList<>()).add(new LoraTerm(kind, a.weights(), first.name(),
                    second.name(), magnitude, r, scale, a.label() + " r=" + r + " scale=" + scale + (magnitude != null ? " DoRA" : "")));
            TensorInfo bias = p.get(Role.LORA_B_BIAS);
            if (bias != null) {
                Optional<TensorInfo> b = shapeOf.apply(m + ".bias");
                if (b.isEmpty() || b.get().elementCount() != bias.elementCount()) {
                    d.error(a.label() + ": " + bias.name() + " (lora_bias) has no matching " + m + ".bias " + bias.shape() + " in the base");
                } else {
                    terms.computeIfAbsent(m + ".bias", x -> new ArrayList<>()).add(new LoraTerm(LoraTerm.Kind.BIAS,
                            a.weights(), bias.name(), null, null, 1, (float) (cfg.scaleFor(m, r) * a.weight()), a.label() + " lora_bias"));
                }
            }
            if (!cfg.targetModules().matches(m)) {
                d.warning(a.label() + ": module " + m + " has LoRA weights but is not in target_modules; merged anyway");
            }
        }
        if (!unmatched.isEmpty()) {
            d.error(a.label() + ": " + unmatched.size() + " adapted module(s) match no base tensor, e.g. "
                    + String.join(", ", unmatched.subList(0, Math.min(3, unmatched.size())))
                    + " — the adapter was trained on a different base (another size, family or naming)");
        }
    }

    private static LoraTerm.Kind linearKind(LoraAdapter a, String m, TensorInfo la, TensorInfo lb, TensorInfo w, int r,
                                            Diagnostics d) {
        Shape sb = lb.shape();
        boolean bOk = sb.dim(1) == r && (sb.rank() == 2 || (sb.rank() == 4 && sb.dim(2) == 1 && sb.dim(3) == 1));
        long out = sb.dim(0);
        long in = la.shape().rowLength();
        if (bOk && a.config().fanInFanOut() && w.shape().rank() == 2 && w.shape().dim(0) == in && w.shape().dim(1) == out) {
            return LoraTerm.Kind.LINEAR_TRANSPOSED;
        }
        if (bOk && w.shape().rank() == la.shape().rank() && w.shape().dim(0) == out && w.shape().rowLength() == in) {
            if (a.config().fanInFanOut() && in != out) {
                d.warning(a.label() + ": fan_in_fan_out is set but " + w.name() + " is stored [out, in]; merged as a plain"
                        + " Linear (what PEFT does for nn.Linear)");
            }
            return LoraTerm.Kind.LINEAR;
        }
        d.error(a.label() + ": " + m + " has lora_A " + la.shape() + " and lora_B " + lb.shape() + ", which do not fit "
                + w.name() + " " + w.shape() + " (wrong base: different model size?)");
        return null;
    }

    private static boolean fitsEmbedding(TensorInfo ea, TensorInfo eb, TensorInfo w, int r) {
        return ea.shape().rank() == 2 && eb.shape().rank() == 2 && w.shape().rank() == 2 && eb.shape().dim(1) == r
                && ea.shape().dim(1) == w.shape().dim(0) && eb.shape().dim(0) == w.shape().dim(1);
    }

    private static String magnitude(LoraAdapter a, String m, TensorInfo mag, LoraTerm.Kind kind, TensorInfo w, Diagnostics d) {
        if (!a.config().useDora()) {
            if (mag != null) {
                d.warning(a.label() + ": " + mag.name() + " ignored: use_dora is false in adapter_config.json");
            }
            return null;
        }
        if (mag == null) {
            d.error(a.label() + ": use_dora is set but module " + m + " has no lora_magnitude_vector");
            return null;
        }
        long expected = kind == LoraTerm.Kind.LINEAR ? w.shape().dim(0) : w.shape().rowLength();
        if (mag.elementCount() != expected) {
            d.error(a.label() + ": " + mag.name() + " has " + mag.elementCount() + " values, " + w.name() + " needs " + expected);
            return null;
        }
        if (a.weight() != 1.0) {
            d.error(a.label() + ": a weight other than 1 is not defined for DoRA adapters (the magnitude is absolute)");
            return null;
        }
        return mag.name();
    }
}

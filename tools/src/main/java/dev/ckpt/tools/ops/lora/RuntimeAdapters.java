package dev.ckpt.tools.ops.lora;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.FormatException;
import dev.ckpt.tools.ops.lora.LoraModules.Replacement;
import dev.ckpt.tools.ops.plan.Diagnostic;
import dev.ckpt.tools.ops.plan.Diagnostics;
import dev.ckpt.verify.RuntimeAdapter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Describes opened adapters for the verifier's run-time application ({@link RuntimeAdapter}), with
 * merge-lora's own PEFT parsing and key mapping ({@link PeftConfig}, {@link AdapterKey},
 * {@link LlavaTrainables}): which factors form which term of which module, with PEFT's scale times
 * the adapter weight, DoRA magnitudes, fan_in_fan_out / embedding layouts, whole-tensor replacements
 * and a LLaVA LoRA folder's config. Only names and scales cross over: the verifier does its own
 * arithmetic at inference time, so the reference stays independent of the merge kernels.
 */
public final class RuntimeAdapters {
    private RuntimeAdapters() {
    }

    /**
     * @param base     the base checkpoint (tensor shapes decide fan_in_fan_out layouts, as for merging)
     * @param adapters opened adapters, in merge order
     * @throws FormatException with the first problem merge-lora's planner would also report (exit 3)
     */
    public static List<RuntimeAdapter> describe(Checkpoint base, List<LoraAdapter> adapters) throws FormatException {
        Diagnostics d = new Diagnostics();
        Map<String, Replacement> all = new LinkedHashMap<>();
        List<Map<String, Replacement>> own = new ArrayList<>();
        for (LoraAdapter a : adapters) {
            a.config().unsupported().forEach(u -> d.error(a.label() + ": " + u));
            Map<String, Replacement> mine = new LinkedHashMap<>();
            LoraModules.collectReplacements(a, mine, d);
            own.add(mine);
            all.putAll(mine);
        }
        List<RuntimeAdapter> out = new ArrayList<>();
        for (int i = 0; i < adapters.size(); i++) {
            LoraAdapter a = adapters.get(i);
            Map<String, List<LoraTerm>> terms = new LinkedHashMap<>();
            LoraModules.collectTerms(a, name -> Optional.ofNullable(all.get(name)).map(Replacement::info).or(() -> base.tensor(name)),
                    terms, d);
            List<RuntimeAdapter.Term> runtime = new ArrayList<>();
            for (var e : terms.entrySet()) {
                for (LoraTerm t : e.getValue()) {
                    term(a, e.getKey(), t, d).ifPresent(runtime::add);
                }
            }
            List<RuntimeAdapter.Replacement> reps = own.get(i).values().stream()
                    .map(r -> new RuntimeAdapter.Replacement(r.info().name(), r.source().root(), r.sourceName())).toList();
            ObjectNode config = a.modelConfig().map(ObjectNode::deepCopy).orElse(null);
            out.add(new RuntimeAdapter(a.label(), a.weights().root(), runtime, reps, config));
        }
        Optional<Diagnostic> error = d.list().stream().filter(x -> x.severity() == Diagnostic.Severity.ERROR).findFirst();
        if (error.isPresent()) {
            throw new FormatException(adapters.getFirst().dir(), FormatException.Kind.UNSUPPORTED,
                    "cannot describe the LoRA reference: " + error.get().message());
        }
        return out;
    }

    private static Optional<RuntimeAdapter.Term> term(LoraAdapter a, String tensor, LoraTerm t, Diagnostics d) {
        RuntimeAdapter.TermKind kind = switch (t.kind()) {
            case LINEAR -> RuntimeAdapter.TermKind.LINEAR;
            case LINEAR_TRANSPOSED -> RuntimeAdapter.TermKind.TRANSPOSED;
            case EMBEDDING -> RuntimeAdapter.TermKind.EMBEDDING;
            case BIAS -> null;
        };
        if (kind == null || !tensor.endsWith(".weight")) {
            d.error(a.label() + ": " + t.first() + " (lora_bias) is not applied at run time by the verifier");
            return Optional.empty();
        }
        String module = tensor.substring(0, tensor.length() - ".weight".length());
        return Optional.of(new RuntimeAdapter.Term(kind, module, t.first(), t.second(), t.magnitude(), t.scale()));
    }

}

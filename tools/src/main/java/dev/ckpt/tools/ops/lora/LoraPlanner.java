package dev.ckpt.tools.ops.lora;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.tools.ops.kernel.LowRankUpdate;
import dev.ckpt.tools.ops.kernel.MergeKernel;
import dev.ckpt.tools.ops.kernel.Recipes;
import dev.ckpt.tools.ops.kernel.Rows;
import dev.ckpt.tools.ops.kernel.SegmentSink;
import dev.ckpt.tools.ops.kernel.ViewRows;
import dev.ckpt.tools.ops.lora.LoraModules.Replacement;
import dev.ckpt.tools.ops.plan.ConfigCheck;
import dev.ckpt.tools.ops.plan.Diagnostics;
import dev.ckpt.tools.ops.plan.OutputPlan;
import dev.ckpt.tools.ops.plan.TensorChange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Plans merge-lora (algorithms.md 2.6): base tensors in base order, then tensors only the adapters
 * add (the LLaVA projector). Whole tensors from adapters ({@code modules_to_save}, LLaVA
 * {@code non_lora_trainables} after renaming) replace base tensors; then every adapted tensor gets
 * its low-rank updates in adapter order. Output dtypes are the base's (added tensors take the
 * base's embedding dtype); config.json comes from a LLaVA LoRA folder when it has one, tokenizer
 * files from the base. No tensor bytes are read.
 */
public final class LoraPlanner {
    private LoraPlanner() {
    }

    /** Plans the merge; problems are returned as diagnostics, never thrown. */
    public static OutputPlan plan(Checkpoint base, List<LoraAdapter> adapters) {
        Diagnostics d = new Diagnostics();
        base.problems().forEach(p -> d.warning("base: " + p));
        ConfigCheck.rejectQuantized(base, "base", d);
        for (LoraAdapter a : adapters) {
            a.config().unsupported().forEach(u -> d.error(a.label() + ": " + u));
            if (a.modelConfig().isPresent() && base.config().isPresent()) {
                ConfigCheck.compare(base.config().get(), a.modelConfig().get(), "LoRA folder " + a.dir().getFileName(), true, d);
            }
        }
        Map<String, Replacement> replacements = new LinkedHashMap<>();
        adapters.forEach(a -> LoraModules.collectReplacements(a, replacements, d));
        Map<String, List<LoraTerm>> terms = new LinkedHashMap<>();
        for (LoraAdapter a : adapters) {
            LoraModules.collectTerms(a, name -> Optional.ofNullable(replacements.get(name)).map(Replacement::info)
                    .or(() -> base.tensor(name)), terms, d);
        }
        DType added = base.tensor("model.embed_tokens.weight").map(TensorInfo::dtype)
                .or(() -> base.tensors().stream().map(TensorInfo::dtype).filter(DType::isComputeFloat).findFirst())
                .orElse(DType.F16);

        List<PlannedTensor> out = new ArrayList<>();
        List<TensorChange> changes = new ArrayList<>();
        for (TensorInfo b : base.tensors()) {
            Replacement rep = replacements.get(b.name());
            if (rep != null && !rep.info().shape().equals(b.shape())) {
                if (isVocabTensor(b.name()) && rep.info().shape().rowLength() == b.shape().rowLength()) {
                    d.note(b.name() + ": " + rep.label() + " replaces the base " + b.shape() + " with " + rep.info().shape());
                } else {
                    d.error(b.name() + ": " + rep.label() + " has shape " + rep.info().shape() + " but the base has " + b.shape());
                    continue;
                }
            }
            DType dtype = rep != null && !rep.info().dtype().isComputeFloat() ? rep.info().dtype() : b.dtype();
            add(base, b, rep, dtype, terms.get(b.name()), out, changes);
        }
        for (Replacement rep : replacements.values()) {
            if (base.tensor(rep.info().name()).isEmpty()) {
                DType dtype = rep.info().dtype().isComputeFloat() ? added : rep.info().dtype();
                add(base, rep.info(), rep, dtype, terms.get(rep.info().name()), out, changes);
            }
        }
        List<SideFile> sides = sideFiles(base, adapters, d);
        checkLlava(adapters, out, d);
        return new OutputPlan(out, sides, changes, d.list());
    }

    private static void add(Checkpoint base, TensorInfo b, Replacement rep, DType dtype, List<LoraTerm> ts,
                            List<PlannedTensor> out, List<TensorChange> changes) {
        Checkpoint src = rep != null ? rep.source() : base;
        String srcName = rep != null ? rep.sourceName() : b.name();
        TensorInfo info = new TensorInfo(b.name(), dtype, rep != null ? rep.info().shape() : b.shape());
        String replaced = rep == null ? "" : "values from " + rep.label() + (base.tensor(b.name()).isPresent() ? "" : " (new)");
        if (ts != null && !ts.isEmpty()) {
            out.add(new PlannedTensor(info, merge(src, srcName, ts, dtype)));
            String by = ts.stream().map(LoraTerm::label).collect(Collectors.joining("; "));
            changes.add(new TensorChange(b.name(), "lora", (replaced.isEmpty() ? "" : replaced + ", then ") + by));
        } else if (rep != null) {
            out.add(new PlannedTensor(info, Recipes.copy(src, srcName, dtype)));
            changes.add(new TensorChange(b.name(), base.tensor(b.name()).isPresent() ? "replace" : "add", replaced));
        } else {
            out.add(new PlannedTensor(info, Recipes.copy(base, b.name(), dtype)));
        }
    }

    /** W (from the base or a replacement) plus every term, f32, one rounding into {@code dtype}. */
    private static TensorRecipe merge(Checkpoint src, String srcName, List<LoraTerm> ts, DType dtype) {
        return target -> {
            Rows w = new ViewRows(src.view(srcName));
            List<LowRankUpdate> updates = new ArrayList<>();
            for (LoraTerm t : ts) {
                updates.add(t.resolve());
            }
            MergeKernel.run(w, updates, new SegmentSink(target, dtype, w.cols()));
        };
    }

    /** Base side files; config.json from the (last) adapter folder that has one, normalised. */
    private static List<SideFile> sideFiles(Checkpoint base, List<LoraAdapter> adapters, Diagnostics d) {
        Map<String, SideFile> byName = new LinkedHashMap<>();
        for (Path p : base.sideFiles()) {
            byName.put(p.getFileName().toString(), SideFile.Copy.of(p));
        }
        Optional<LoraAdapter> withConfig = adapters.reversed().stream().filter(a -> a.modelConfig().isPresent()).findFirst();
        withConfig.ifPresent(a -> {
            ObjectNode c = a.modelConfig().get().deepCopy();
            base.config().map(bc -> bc.get("torch_dtype")).ifPresent(t -> c.set("torch_dtype", t));
            if (c.path("model_type").asText("").equals("llava")
                    && c.path("architectures").path(0).asText("").equals("LlavaLlamaForCausalLM")) {
                c.put("model_type", "llava_llama");
                d.note("config.json: model_type 'llava' (LLaVA <= 1.1 naming, clashes with transformers' llava) written as 'llava_llama'");
            }
            byName.put("config.json", SideFile.Bytes.utf8("config.json", c.toPrettyString()));
            d.note("config.json taken from " + a.label() + " (the LoRA run's full model config); tokenizer from the base");
        });
        return List.copyOf(byName.values());
    }

    /** A LLaVA LoRA needs a projector from the base or from non_lora_trainables. */
    private static void checkLlava(List<LoraAdapter> adapters, List<PlannedTensor> out, Diagnostics d) {
        for (LoraAdapter a : adapters) {
            if (a.isLlava() && out.stream().noneMatch(t -> t.info().name().contains("mm_projector"))) {
                d.error(a.label() + " is a LLaVA LoRA but neither the base nor non_lora_trainables.bin provides"
                        + " model.mm_projector.* (LLaVA writes non_lora_trainables.bin only at the end of training)");
            }
        }
        Optional<LoraAdapter> llava = adapters.stream().filter(a -> a.modelConfig().isPresent()).reduce((x, y) -> y);
        llava.flatMap(a -> Optional.ofNullable(a.modelConfig().get().get("vocab_size"))).ifPresent(v -> {
            for (PlannedTensor t : out) {
                if (isVocabTensor(t.info().name()) && t.info().shape().dim(0) != v.asLong()) {
                    d.error(t.info().name() + " has " + t.info().shape().dim(0) + " rows but the output config says vocab_size "
                            + v.asLong() + "; the LoRA folder and the base disagree on the vocabulary");
                }
            }
        });
    }

    static boolean isVocabTensor(String name) {
        return name.endsWith("embed_tokens.weight") || name.equals("lm_head.weight");
    }
}

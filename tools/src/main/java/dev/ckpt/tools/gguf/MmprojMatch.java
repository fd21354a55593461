package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks, from metadata only, that an mmproj holds the vision part of the LLaVA checkpoint it is
 * verified against: every projector and tower tensor LLaVA runs (blocks below the reference's
 * {@code mm_vision_select_layer}), with the reference's shapes, and nothing else. An mmproj exported
 * from another model fails here with the name of the first difference (exit 3), instead of running
 * and failing the logit comparison (exit 5) for a reason the report cannot name.
 */
public final class MmprojMatch {
    private MmprojMatch() {
    }

    /**
     * Refuses a reference that has no vision part to compare an mmproj with (a plain Llama, a GGUF).
     *
     * @throws FormatException (exit 3) naming the reference and the remedy
     */
    public static void requireLlavaReference(Path reference, Path mmprojFile) throws IOException {
        if (!isLlava(reference)) {
            throw new FormatException(mmprojFile, Kind.MISMATCH, "the reference " + reference + " is not a LLaVA model (no mm_* config"
                    + " or mm_projector tensors), so it has no vision part to compare: verify the language GGUF without --mmproj");
        }
    }

    /** True when {@code reference} opens as a LLaVA checkpoint. */
    static boolean isLlava(Path reference) throws IOException {
        try (Checkpoint ref = Checkpoint.open(reference)) {
            return MmprojExport.isLlava(ref);
        }
    }

    /**
     * @param mmproj the mmproj's tensors under their HF LLaVA names ({@link MmprojSource})
     * @param visionTower the reference's separate tower checkpoint, or null (then the tower inside the
     *     reference or its local {@code mm_vision_tower}; when neither exists only the projector is compared)
     * @param reference a LLaVA checkpoint directory
     * @throws FormatException when a tensor is missing, extra or mis-shaped
     */
    static void requireMatches(List<TensorInfo> mmproj, Path mmprojFile, Path reference, Path visionTower) throws IOException {
        try (Checkpoint ref = Checkpoint.open(reference)) {
            Map<String, Shape> want = new LinkedHashMap<>();
            ref.tensors().stream().filter(t -> t.name().startsWith("model.mm_projector.")).forEach(t -> want.put(t.name(), t.shape()));
            boolean towerCompared = addTower(ref, visionTower, want);
            Map<String, Shape> have = new LinkedHashMap<>();
            for (TensorInfo t : mmproj) {
                String rel = t.name().startsWith(MmprojExport.INNER_PREFIX) ? t.name().substring(MmprojExport.INNER_PREFIX.length()) : "";
                if (!ClipNames.towerDropped(rel)) { // post_layernorm: LLaVA never runs it, whether kept or not
                    have.put(t.name(), t.shape());
                }
            }
            String remedy = ": this mmproj was not made from " + reference + "; re-export it with `ckpt convert " + reference
                    + " --to gguf`";
            for (var e : want.entrySet()) {
                Shape s = have.get(e.getKey());
                if (s == null) {
                    throw new FormatException(mmprojFile, Kind.MISSING_TENSOR, "no tensor " + MmprojSource.ggufName(e.getKey())
                            + ", which the reference's LLaVA runs (" + e.getKey() + ")" + remedy);
                }
                if (!s.equals(e.getValue())) {
                    throw new FormatException(mmprojFile, Kind.MISMATCH, "tensor " + MmprojSource.ggufName(e.getKey()) + " is " + s
                            + " (HF order) but the reference's " + e.getKey() + " is " + e.getValue() + remedy);
                }
            }
            for (String name : have.keySet()) {
                if (!want.containsKey(name) && (towerCompared || !name.startsWith(MmprojExport.INNER_PREFIX))) {
                    throw new FormatException(mmprojFile, Kind.MISMATCH, "tensor " + MmprojSource.ggufName(name)
                            + " has no counterpart the reference's LLaVA runs (" + name + ")" + remedy);
                }
            }
        }
    }

    /** Adds the reference tower's used tensors under the in-checkpoint prefix; false when no tower is at hand. */
    private static boolean addTower(Checkpoint ref, Path visionTower, Map<String, Shape> want) throws IOException {
        ObjectNode cfg = ref.config().orElseGet(() -> new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());
        Path dir = visionTower != null ? visionTower : MmprojExport.hasInnerTower(ref) ? null : MmprojExport.localTower(cfg).orElse(null);
        if (dir == null && !MmprojExport.hasInnerTower(ref)) {
            return false;
        }
        try (Checkpoint separate = dir == null ? null : Checkpoint.open(dir)) {
            Checkpoint tower = separate != null ? separate : ref;
            String prefix = separate != null ? MmprojExport.towerPrefix(separate) : MmprojExport.INNER_PREFIX;
            int layers = 0;
            while (tower.tensor(prefix + "encoder.layers." + layers + ".mlp.fc1.weight").isPresent()) {
                layers++;
            }
            int select = cfg.path("mm_vision_select_layer").asInt(-2);
            int featureLayer = select >= 0 ? select : layers + select + 1; // blocks LLaVA runs, as MmprojExport cuts
            for (TensorInfo t : tower.tensors()) {
                if (!t.name().startsWith(prefix)) {
                    continue;
                }
                String rel = t.name().substring(prefix.length());
                if (!ClipNames.towerDropped(rel) && ClipNames.towerLayer(rel) < featureLayer && ClipNames.tower(rel).isPresent()) {
                    want.put(MmprojExport.INNER_PREFIX + rel, t.shape());
                }
            }
            return true;
        }
    }
}

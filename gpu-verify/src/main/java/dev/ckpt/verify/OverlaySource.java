package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A base checkpoint seen through its adapters' whole-tensor replacements ({@code modules_to_save},
 * LLaVA {@code non_lora_trainables} after renaming): a replaced tensor is read from the adapter's
 * file instead (its own dtype and shape), a tensor the base lacks (the LLaVA projector) is added
 * after the base's, later adapters win. The config is the last adapter's model config when one has
 * it (a LLaVA LoRA folder's), else the base's; side files (tokenizer) come from the base. Closes
 * the base and the files it opened.
 */
final class OverlaySource implements WeightSource {
    private record Entry(TensorInfo info, Path file, String sourceName) {
    }

    private final WeightSource base;
    private final Map<String, Entry> replaced = new LinkedHashMap<>();
    private final Map<Path, CheckpointSource> files = new HashMap<>();
    private final ObjectNode config;
    private final List<TensorInfo> tensors = new ArrayList<>();

    private OverlaySource(WeightSource base, ObjectNode config) {
        this.base = base;
        this.config = config;
    }

    /** {@code base} unchanged when no adapter replaces anything or brings a config; else an overlay. Takes {@code base}. */
    static WeightSource over(WeightSource base, List<RuntimeAdapter> adapters) throws IOException {
        ObjectNode config = null;
        for (RuntimeAdapter a : adapters) {
            config = a.modelConfig() != null ? a.modelConfig() : config;
        }
        if (config == null && adapters.stream().allMatch(a -> a.replacements().isEmpty())) {
            return base;
        }
        OverlaySource o = new OverlaySource(base, config);
        try {
            for (RuntimeAdapter a : adapters) {
                for (RuntimeAdapter.Replacement r : a.replacements()) {
                    CheckpointSource f = o.file(r.file());
                    TensorInfo src = f.tensors().stream().filter(t -> t.name().equals(r.sourceName())).findFirst()
                            .orElseThrow(() -> new dev.ckpt.formats.FormatException(r.file(), dev.ckpt.formats.FormatException.Kind.MISSING_TENSOR,
                                    "tensor '" + r.sourceName() + "' is missing"));
                    o.replaced.put(r.name(), new Entry(src.withName(r.name()), r.file(), r.sourceName()));
                }
            }
        } catch (IOException | RuntimeException e) {
            o.close();
            throw e;
        }
        for (TensorInfo t : base.tensors()) {
            Entry e = o.replaced.get(t.name());
            o.tensors.add(e == null ? t : e.info());
        }
        java.util.Set<String> inBase = new java.util.HashSet<>();
        base.tensors().forEach(t -> inBase.add(t.name()));
        o.replaced.values().stream().filter(e -> !inBase.contains(e.info().name())).forEach(e -> o.tensors.add(e.info()));
        return o;
    }

    private CheckpointSource file(Path p) throws IOException {
        CheckpointSource f = files.get(p);
        if (f == null) {
            f = CheckpointSource.open(p);
            files.put(p, f);
        }
        return f;
    }

    @Override
    public Path root() {
        return base.root();
    }

    @Override
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors);
    }

    @Override
    public TensorView view(String name) throws IOException {
        Entry e = replaced.get(name);
        if (e == null) {
            return base.view(name);
        }
        return new TensorView(e.info(), files.get(e.file()).view(e.sourceName()).data());
    }

    @Override
    public Optional<ObjectNode> config() {
        return config != null ? Optional.of(config) : base.config();
    }

    @Override
    public List<String> problems() {
        return base.problems();
    }

    @Override
    public void close() {
        files.values().forEach(CheckpointSource::close);
        base.close();
    }
}

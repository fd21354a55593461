package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A virtual checkpoint whose tensors are computed by {@link PlannedTensor} recipes instead of read
 * from files: e.g. a quantized GGUF dequantized (and renamed, un-permuted) on the fly, so it can be
 * verified without writing a safetensors copy. Each view is computed on first request into native
 * memory owned by this source (at most one copy of the virtual model while it is open). Closes
 * {@code owned} (the underlying file) with itself.
 */
public final class PlannedSource implements WeightSource {
    private final Path root;
    private final Map<String, PlannedTensor> tensors = new LinkedHashMap<>();
    private final ObjectNode config;
    private final AutoCloseable owned;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorView> computed = new java.util.HashMap<>();

    /**
     * @param root where side files (tokenizer) are looked up: a directory, or a file whose folder is used
     * @param plan every tensor and its recipe, in order
     * @param config the {@code config.json} the model runs with
     * @param owned closed with this source (may be null)
     */
    public PlannedSource(Path root, List<PlannedTensor> plan, ObjectNode config, AutoCloseable owned) {
        this.root = root;
        plan.forEach(p -> tensors.put(p.info().name(), p));
        this.config = config;
        this.owned = owned;
    }

    @Override
    public Path root() {
        return root;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors.values().stream().map(PlannedTensor::info).toList();
    }

    @Override
    public synchronized TensorView view(String name) throws IOException {
        TensorView v = computed.get(name);
        if (v != null) {
            return v;
        }
        PlannedTensor p = tensors.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        MemorySegment seg = arena.allocate(p.info().byteSize(), 16);
        p.recipe().fill(seg);
        v = new TensorView(p.info(), seg.asReadOnly());
        computed.put(name, v);
        return v;
    }

    @Override
    public Optional<ObjectNode> config() {
        return Optional.ofNullable(config);
    }

    @Override
    public void close() {
        arena.close();
        if (owned != null) {
            try {
                owned.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot close " + root, e);
            }
        }
    }
}

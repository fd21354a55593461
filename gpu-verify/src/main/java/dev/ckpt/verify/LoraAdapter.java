package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@link RuntimeAdapter} loaded for application at run time: its factors are engine arrays
 * (a sub-manager), looked up by module as the decoder builds its layers. Records which adapter
 * tensors were consumed for the {@code adapter-used} check. Owns its weights and its file.
 */
final class LoraAdapter implements AutoCloseable {
    /**
     * One term on one module, loaded: shapes as {@link RuntimeAdapter.TermKind} says for the stored
     * tensor {@code [rows, cols]}; {@code magnitude} is null for plain LoRA.
     */
    record Pair(RuntimeAdapter.TermKind kind, NDArray a, NDArray b, NDArray magnitude, double scale) {
        /** True when the factors act transposed on the stored tensor (fan_in_fan_out, embedding). */
        boolean transposed() {
            return kind != RuntimeAdapter.TermKind.LINEAR;
        }
    }

    private final WeightSource source;
    private final WeightStore store;
    private final Map<String, List<RuntimeAdapter.Term>> byModule = new LinkedHashMap<>();

    private LoraAdapter(WeightSource source, WeightStore store, RuntimeAdapter description) {
        this.source = source;
        this.store = store;
        for (RuntimeAdapter.Term t : description.terms()) {
            byModule.computeIfAbsent(t.module(), k -> new ArrayList<>()).add(t);
        }
        for (RuntimeAdapter.Replacement r : description.replacements()) {
            if (r.file().toAbsolutePath().normalize().equals(source.root().toAbsolutePath().normalize())) {
                store.markIgnored(r.sourceName()); // consumed through the model's OverlaySource
            }
        }
    }

    /**
     * Several adapters applied together (merge-lora's {@code --lora A:0.5 --lora B}): a module gets the
     * terms of every adapter that targets it, in adapter order. Empty when there is no adapter.
     */
    static final class Group implements AutoCloseable {
        private final List<LoraAdapter> members;

        private Group(List<LoraAdapter> members) {
            this.members = members;
        }

        static Group open(List<RuntimeAdapter> adapters, NDManager parent, DataType computeType) throws IOException {
            List<LoraAdapter> opened = new ArrayList<>();
            try {
                for (RuntimeAdapter a : adapters) {
                    WeightSource src = CheckpointSource.open(a.weights());
                    opened.add(new LoraAdapter(src, new WeightStore(src, parent.newSubManager(), computeType), a));
                }
            } catch (IOException | RuntimeException e) {
                opened.forEach(LoraAdapter::close);
                throw e;
            }
            return new Group(List.copyOf(opened));
        }

        boolean isEmpty() {
            return members.isEmpty();
        }

        /** Every member's terms for {@code module}, whose stored tensor is {@code [rows, cols]}, in adapter order. */
        List<Pair> pairs(String module, long rows, long cols) throws IOException {
            List<Pair> pairs = new ArrayList<>();
            for (LoraAdapter a : members) {
                pairs.addAll(a.pairs(module, rows, cols));
            }
            return pairs;
        }

        /** Adapter tensors nothing consumed, over all members. */
        List<String> unused() {
            return members.stream().flatMap(a -> a.store.unused().stream()).toList();
        }

        @Override
        public void close() {
            members.forEach(LoraAdapter::close);
        }
    }

    /** Loads this adapter's terms for {@code module} (shape-checked against {@code [rows, cols]}). */
    private List<Pair> pairs(String module, long rows, long cols) throws IOException {
        List<Pair> out = new ArrayList<>();
        for (RuntimeAdapter.Term t : byModule.getOrDefault(module, List.of())) {
            long r = store.info(t.a()).shape().dim(0);
            boolean transposed = t.kind() != RuntimeAdapter.TermKind.LINEAR;
            NDArray a = store.load(t.a(), r, transposed ? rows : cols);
            NDArray b = store.load(t.b(), transposed ? cols : rows, r);
            NDArray m = t.magnitude() == null ? null : store.load(t.magnitude(), transposed ? cols : rows);
            out.add(new Pair(t.kind(), a, b, m, t.scale()));
        }
        return out;
    }

    @Override
    public void close() {
        store.close();
        source.close();
    }
}

package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.torch.PyValues.PyDict;
import dev.ckpt.formats.torch.PyValues.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the tensors in the object a {@code .bin} file unpickled to. The rule, in order:
 * <ol>
 * <li>the root must be a dict;</li>
 * <li>an explicit {@code unwrapKey} selects {@code root[unwrapKey]}, which must be a dict;</li>
 * <li>otherwise, when the root holds at least one tensor, its tensor entries are the state dict;</li>
 * <li>otherwise, when the root has exactly one entry and it is a dict ({@code {"state_dict": ...}},
 *     {@code {"model": ...}}), that dict is the state dict ("unwrapped automatically");</li>
 * <li>otherwise the file is refused, naming the nested dicts, so the caller can pick one.</li>
 * </ol>
 * Entries of the chosen dict that are not tensors are skipped and reported in {@link #notes()};
 * nested values are never walked (so hostile structures cost nothing here).
 */
record StateDictLayout(Map<String, TensorRef> tensors, List<String> notes) {

    static StateDictLayout of(Path file, Object root, String unwrapKey) throws FormatException {
        if (!(root instanceof PyDict dict)) {
            throw new FormatException(file, Kind.INVALID_VALUE, "data.pkl holds a " + PyValues.typeName(root)
                    + ", not a state dict (a dict of tensors)");
        }
        List<String> notes = new ArrayList<>();
        PyDict chosen = dict;
        if (unwrapKey != null) {
            chosen = nested(file, dict, unwrapKey);
            notes.add("unwrapped the state dict under '" + unwrapKey + "'");
        } else if (!hasTensor(dict) && dict.items.size() == 1
                && dict.items.values().iterator().next() instanceof PyDict only) {
            String key = PyValues.printable(dict.items.keySet().iterator().next());
            chosen = only;
            notes.add("unwrapped the state dict under '" + key + "' (the only top-level entry)");
        } else if (!hasTensor(dict) && !dict.items.isEmpty()) {
            List<String> nestedKeys = new ArrayList<>();
            dict.items.forEach((k, v) -> {
                if (v instanceof PyDict) {
                    nestedKeys.add("'" + PyValues.printable(k) + "'");
                }
            });
            throw new FormatException(file, Kind.UNSUPPORTED, "no tensors at the top level of the pickle"
                    + (nestedKeys.isEmpty() ? "" : "; nested dicts under " + String.join(", ", nestedKeys)
                    + ": choose one with the unwrap option (e.g. --unwrap " + nestedKeys.getFirst().replace("'", "") + ")"));
        }
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : chosen.items.entrySet()) {
            if (e.getValue() instanceof TensorRef t) {
                if (!(e.getKey() instanceof String name)) {
                    throw new FormatException(file, Kind.INVALID_VALUE, "a tensor is keyed by a "
                            + PyValues.typeName(e.getKey()) + "; state dict keys are str");
                }
                tensors.put(name, t);
            } else {
                notes.add("skipped non-tensor entry '" + PyValues.printable(e.getKey()) + "' (" + PyValues.typeName(e.getValue()) + ")");
            }
        }
        return new StateDictLayout(Collections.unmodifiableMap(tensors), List.copyOf(notes));
    }

    private static PyDict nested(Path file, PyDict dict, String key) throws FormatException {
        Object value = dict.items.get(key);
        if (!(value instanceof PyDict nested)) {
            throw new FormatException(file, Kind.MISSING_TENSOR, "no nested state dict under '" + PyValues.printable(key) + "'; top-level keys: "
                    + dict.items.keySet().stream().limit(20).map(k -> "'" + PyValues.printable(k) + "'").toList());
        }
        return nested;
    }

    private static boolean hasTensor(PyDict dict) {
        return dict.items.values().stream().anyMatch(v -> v instanceof TensorRef);
    }
}

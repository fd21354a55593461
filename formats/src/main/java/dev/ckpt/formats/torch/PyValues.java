package dev.ckpt.formats.torch;

import dev.ckpt.formats.DType;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The values the restricted unpickler builds. Plain Python values map to Java types
 * ({@code str} → String, {@code int} → Long or BigInteger, {@code float} → Double, {@code bool} →
 * Boolean, {@code bytes} → byte[], {@code None} → {@link PyNone#NONE}); containers carry their
 * nesting depth and "weight" (objects reachable counting repeats) so hostile structures are caught
 * as they are built, without ever walking them recursively.
 */
final class PyValues {
    private PyValues() {
    }

    /** Python's {@code None} (the VM's stack cannot hold Java null). */
    enum PyNone { NONE }

    /** A container the VM tracks for nesting depth and expanded size. */
    sealed interface PyContainer permits PyList, PyTuple, PyDict {
        int depth();

        long weight();
    }

    /** A Python list (also stands in for {@code set}). Mutable while the pickle is being read. */
    static final class PyList implements PyContainer {
        final List<Object> items = new ArrayList<>();
        int depth = 1;
        long weight = 1;

        @Override
        public int depth() {
            return depth;
        }

        @Override
        public long weight() {
            return weight;
        }
    }

    /** A Python tuple. */
    record PyTuple(List<Object> items, int depth, long weight) implements PyContainer {
        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }
    }

    /**
     * A Python dict or {@code collections.OrderedDict}, in insertion order. Keys are atoms only
     * (str, int, float, bool, None): state dicts never use anything else.
     */
    static final class PyDict implements PyContainer {
        final Map<Object, Object> items = new LinkedHashMap<>();
        int depth = 1;
        long weight = 1;

        @Override
        public int depth() {
            return depth;
        }

        @Override
        public long weight() {
            return weight;
        }
    }

    /** A {@code torch.<X>Storage} class or {@code torch.UntypedStorage} named in a persistent id. */
    record StorageType(String qualifiedName, DType dtype) {
    }

    /** A {@code torch.<dtype>} object (argument of {@code _rebuild_tensor_v3}). */
    record TorchDType(String qualifiedName, DType dtype) {
    }

    /**
     * One storage of the archive: record {@code data/<key>}, element type, element count.
     */
    record StorageRef(String key, DType dtype, long elementCount) {
    }

    /**
     * A tensor as {@code _rebuild_tensor_v2} describes it: a strided window on a storage, all in
     * elements. {@code dtype} is the storage's unless {@code _rebuild_tensor_v3} overrides it.
     */
    record TensorRef(StorageRef storage, DType dtype, long storageOffset, long[] size, long[] stride) {
    }

    /**
     * Text from a hostile file made safe for a one-line message: control characters become
     * {@code ?}, and at most 200 code points are kept.
     */
    static String printable(Object text) {
        return dev.ckpt.formats.UntrustedText.oneLine(text, 200);
    }

    /** Depth of a value: 0 for atoms. */
    static int depth(Object value) {
        return value instanceof PyContainer c ? c.depth() : 0;
    }

    /** Expanded size of a value: 1 for atoms. */
    static long weight(Object value) {
        return value instanceof PyContainer c ? c.weight() : 1;
    }

    /** True for the values allowed as dict keys. */
    static boolean isAtom(Object value) {
        return value instanceof String || value instanceof Long || value instanceof BigInteger
                || value instanceof Double || value instanceof Boolean || value == PyNone.NONE;
    }

    /** Short Python-ish type name for error messages (never the value: it may be huge or hostile). */
    static String typeName(Object value) {
        return switch (value) {
            case String s -> "str";
            case Long l -> "int";
            case BigInteger b -> "int";
            case Double d -> "float";
            case Boolean b -> "bool";
            case byte[] b -> "bytes";
            case PyNone n -> "None";
            case PyList l -> "list";
            case PyTuple t -> "tuple";
            case PyDict d -> "dict";
            case StorageType s -> s.qualifiedName();
            case TorchDType d -> d.qualifiedName();
            case StorageRef s -> "storage";
            case TensorRef t -> "tensor";
            case AllowedGlobal g -> g.qualifiedName();
            default -> value.getClass().getSimpleName();
        };
    }
}

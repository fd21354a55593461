package dev.ckpt.formats.torch;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.torch.PyValues.PyDict;
import dev.ckpt.formats.torch.PyValues.PyTuple;
import dev.ckpt.formats.torch.PyValues.StorageRef;
import dev.ckpt.formats.torch.PyValues.TensorRef;
import dev.ckpt.formats.torch.RestrictedUnpickler.Corrupt;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What the allowed globals do when the pickle calls them, and how persistent ids become storages
 * (reference C3). Nothing here runs code from the file: each role builds a plain record
 * ({@link TensorRef}, {@link StorageRef}, a dict, a tuple), after checking argument types, tensor
 * shapes and that every element a tensor addresses lies inside its storage record.
 */
final class StateDictCalls {

    /** Byte length of the storage record of a key, or -1 when there is none; unknown yet: {@link Long#MAX_VALUE}. */
    @FunctionalInterface
    interface RecordSizes {
        long byteSize(String key);
    }

    private final Path file;
    private final PickleLimits limits;
    private final RecordSizes records;
    private final Map<String, StorageRef> storages = new HashMap<>();

    StateDictCalls(Path file, PickleLimits limits, RecordSizes records) {
        this.file = file;
        this.limits = limits;
        this.records = records;
    }

    /**
     * BINPERSID: {@code ('storage', storage_type, key, location, numel)} → the storage. Legacy files
     * add a sixth field, {@code view_metadata}, which must be None (storage views are not read).
     */
    StorageRef persistentLoad(Object pid, Corrupt corrupt) throws FormatException {
        if (!(pid instanceof PyTuple t) || t.size() < 5 || t.size() > 6 || !"storage".equals(t.get(0))) {
            throw corrupt.at("persistent id is not a ('storage', type, key, location, numel) tuple");
        }
        if (t.size() == 6 && t.get(5) != PyValues.PyNone.NONE) {
            throw new FormatException(file, Kind.UNSUPPORTED, "legacy storage views (view_metadata in a persistent id)"
                    + " are not read; re-save the checkpoint with a current PyTorch");
        }
        if (!(t.get(1) instanceof AllowedGlobal type) || !(t.get(2) instanceof String key)
                || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw corrupt.at("persistent id fields have the wrong types");
        }
        if (type.role() != AllowedGlobal.Role.STORAGE_TYPE) {
            throw notRead(type);
        }
        StorageRef known = storages.get(key);
        if (known != null) {
            if (known.dtype() != type.dtype() || known.elementCount() != numel) {
                throw corrupt.at("storage '" + PyValues.printable(key) + "' is declared twice with different types or sizes");
            }
            return known;
        }
        long needed = byteSize(type.dtype(), numel);
        long available = records.byteSize(key);
        if (available < 0) {
            throw new FormatException(file, Kind.TRUNCATED, "storage record data/" + PyValues.printable(key)
                    + " referenced by the pickle is missing from the archive");
        }
        if (available < needed) {
            throw new FormatException(file, Kind.TRUNCATED, "storage record data/" + PyValues.printable(key) + " has " + available
                    + " bytes but the pickle declares " + numel + " " + type.dtype() + " elements (" + needed + " bytes)");
        }
        StorageRef ref = new StorageRef(key, type.dtype(), numel);
        storages.put(key, ref);
        return ref;
    }

    /** The storages the pickle referenced, by key. */
    Map<String, StorageRef> storages() {
        return Map.copyOf(storages);
    }

    /** REDUCE: {@code callable(*args)} for the allowed callables. */
    Object call(Object callable, Object args, Corrupt corrupt) throws FormatException {
        if (!(callable instanceof AllowedGlobal g)) {
            throw corrupt.at("REDUCE calls a " + PyValues.typeName(callable) + "; only allowed globals are callable");
        }
        if (!(args instanceof PyTuple a)) {
            throw corrupt.at("REDUCE arguments are a " + PyValues.typeName(args) + ", expected a tuple");
        }
        return switch (g.role()) {
            case ORDERED_DICT -> {
                if (a.size() != 0) {
                    throw corrupt.at("OrderedDict called with arguments");
                }
                yield new PyDict();
            }
            case REBUILD_TENSOR -> tensor(a, 4, 4, null, corrupt);
            case REBUILD_TENSOR_V2 -> tensor(a, 6, 7, null, corrupt);
            case REBUILD_TENSOR_V3 -> tensor(a, 7, 8, v3DType(a, corrupt), corrupt);
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, PARAMETER_CLASS -> {
                if (a.size() < 1 || !(a.get(0) instanceof TensorRef t)) {
                    throw corrupt.at(g.qualifiedName() + " needs a tensor as its first argument");
                }
                yield t;
            }
            case REBUILD_FROM_TYPE_V2 -> {
                // _rebuild_from_type_v2(func, new_type, args, state): func(*args), then the type is ignored.
                if (a.size() != 4 || !(a.get(1) instanceof AllowedGlobal type)
                        || (type.role() != AllowedGlobal.Role.TENSOR_CLASS && type.role() != AllowedGlobal.Role.PARAMETER_CLASS)) {
                    throw corrupt.at("_rebuild_from_type_v2 needs (func, torch.Tensor or Parameter, args, state)");
                }
                Object result = call(a.get(0), a.get(2), corrupt);
                if (!(result instanceof TensorRef)) {
                    throw corrupt.at("_rebuild_from_type_v2 did not rebuild a tensor");
                }
                yield result;
            }
            case TORCH_SIZE -> {
                if (a.size() != 1 || !(a.get(0) instanceof PyTuple dims)) {
                    throw corrupt.at("torch.Size needs one tuple");
                }
                yield dims;
            }
            case TORCH_DEVICE -> {
                if (a.size() < 1 || !(a.get(0) instanceof String device)) {
                    throw corrupt.at("torch.device needs a str");
                }
                yield device;
            }
            case CODECS_ENCODE -> {
                // protocol 2 writes bytes as _codecs.encode(str, 'latin1')
                if (a.size() != 2 || !(a.get(0) instanceof String s) || !(a.get(1) instanceof String enc)
                        || !(enc.equals("latin1") || enc.equals("latin-1"))) {
                    throw corrupt.at("_codecs.encode is only read as encode(str, 'latin1')");
                }
                yield s.getBytes(StandardCharsets.ISO_8859_1);
            }
            case NOT_READ -> throw notRead(g);
            case STORAGE_TYPE, DTYPE, TENSOR_CLASS -> throw corrupt.at(g.qualifiedName() + " is not callable here");
        };
    }

    /** The 7th argument of {@code _rebuild_tensor_v3}: a {@code torch.<dtype>} global. */
    private DType v3DType(PyTuple a, Corrupt corrupt) throws FormatException {
        Object d = a.size() >= 7 ? a.get(6) : null;
        if (d instanceof AllowedGlobal g && g.role() == AllowedGlobal.Role.DTYPE) {
            return g.dtype();
        }
        if (d instanceof AllowedGlobal g && g.role() == AllowedGlobal.Role.NOT_READ) {
            throw notRead(g);
        }
        throw corrupt.at("_rebuild_tensor_v3 needs a torch dtype as its 7th argument");
    }

    /** NEWOBJ: {@code cls.__new__(cls, *args)}; only {@code Parameter(tensor, ...)} occurs in state dicts. */
    Object newObject(Object cls, Object args, Corrupt corrupt) throws FormatException {
        if (cls instanceof AllowedGlobal g && g.role() == AllowedGlobal.Role.PARAMETER_CLASS) {
            return call(g, args, corrupt);
        }
        if (cls instanceof AllowedGlobal g && g.role() == AllowedGlobal.Role.NOT_READ) {
            throw notRead(g);
        }
        throw corrupt.at("NEWOBJ of a " + PyValues.typeName(cls) + "; only torch.nn.parameter.Parameter is created");
    }

    /**
     * BUILD: state applied to the object below it. Dict state on an OrderedDict sets attributes
     * ({@code _metadata}, module versions) and tensor state ({@code requires_grad}, hooks): both
     * are kept out of the tensors and ignored.
     */
    void build(Object target, Object state, Corrupt corrupt) throws FormatException {
        if (target instanceof PyDict || target instanceof TensorRef) {
            return;
        }
        throw corrupt.at("BUILD on a " + PyValues.typeName(target) + " with a " + PyValues.typeName(state)
                + "; only dicts and tensors take state");
    }

    private TensorRef tensor(PyTuple a, int minArgs, int maxArgs, DType override, Corrupt corrupt)
            throws FormatException {
        if (a.size() < minArgs || a.size() > maxArgs || !(a.get(0) instanceof StorageRef storage)
                || !(a.get(1) instanceof Long offset) || offset < 0) {
            throw corrupt.at("tensor rebuild needs (storage, offset >= 0, size, stride, ...), got "
                    + a.size() + " arguments");
        }
        long[] size = dims(a.get(2), "size", corrupt);
        long[] stride = dims(a.get(3), "stride", corrupt);
        if (size.length != stride.length) {
            throw corrupt.at("tensor size has " + size.length + " dimensions but stride has " + stride.length);
        }
        DType dtype = override != null ? override : storage.dtype();
        try {
            long elements = 1;
            long last = offset;
            for (int i = 0; i < size.length; i++) {
                elements = Math.multiplyExact(elements, size[i]);
                if (size[i] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                }
            }
            dtype.byteSizeFor(elements);
            long storageBytes = storage.dtype().byteSizeFor(storage.elementCount());
            long endBytes = dtype.byteSizeFor(Math.addExact(last, 1));
            if (elements > 0 && endBytes > storageBytes) {
                throw new FormatException(file, Kind.INVALID_OFFSET, "tensor " + dtype + Arrays.toString(size)
                        + " with offset " + offset + " and stride " + Arrays.toString(stride)
                        + " reaches byte " + endBytes + " of storage data/" + storage.key() + ", which has " + storageBytes);
            }
        } catch (ArithmeticException e) {
            throw new FormatException(file, Kind.LIMIT_EXCEEDED, "tensor shape " + Arrays.toString(size)
                    + " with stride " + Arrays.toString(stride) + " overflows 64-bit sizes");
        }
        return new TensorRef(storage, dtype, offset, size, stride);
    }

    private long[] dims(Object value, String what, Corrupt corrupt) throws FormatException {
        if (!(value instanceof PyTuple t)) {
            throw corrupt.at("tensor " + what + " is a " + PyValues.typeName(value) + ", expected a tuple of ints");
        }
        if (t.size() > limits.maxRank()) {
            throw new FormatException(file, Kind.LIMIT_EXCEEDED, "tensor " + what + " has " + t.size()
                    + " dimensions; at most " + limits.maxRank() + " are accepted");
        }
        long[] dims = new long[t.size()];
        for (int i = 0; i < dims.length; i++) {
            if (!(t.get(i) instanceof Long d) || d < 0) {
                throw corrupt.at("tensor " + what + " has a " + PyValues.typeName(t.get(i))
                        + " that is not a non-negative int");
            }
            dims[i] = d;
        }
        return dims;
    }

    private long byteSize(DType dtype, long numel) throws FormatException {
        try {
            return dtype.byteSizeFor(numel);
        } catch (ArithmeticException e) {
            throw new FormatException(file, Kind.LIMIT_EXCEEDED, "storage of " + numel + " " + dtype
                    + " elements overflows 64-bit sizes");
        }
    }

    private FormatException notRead(AllowedGlobal g) {
        return new FormatException(file, Kind.UNSUPPORTED, "the pickle uses " + g.qualifiedName()
                + " (quantized, sparse or non-tensor data), which ckpt does not read; save a plain state dict"
                + " of dense tensors");
    }
}

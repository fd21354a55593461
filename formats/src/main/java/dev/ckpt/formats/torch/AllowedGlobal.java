package dev.ckpt.formats.torch;

import dev.ckpt.formats.DType;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * One entry of the unpickler's allow-list: a {@code module.name} a tensor state dict may
 * reference, and the role it plays. The table follows PyTorch's weights-only unpickler
 * ({@code torch/_weights_only_unpickler.py::_get_allowed_globals}); names it allows but ckpt does
 * not read (quantized or sparse tensors, sets, complex numbers) have role {@link Role#NOT_READ} and
 * fail with an "unsupported" error only when actually used. Every other name is refused.
 *
 * @param dtype the element type for {@link Role#STORAGE_TYPE} and {@link Role#DTYPE}, else null
 */
record AllowedGlobal(String qualifiedName, Role role, DType dtype) {

    /** What a global does when called by REDUCE or NEWOBJ (or names, for types). */
    enum Role {
        ORDERED_DICT, REBUILD_TENSOR, REBUILD_TENSOR_V2, REBUILD_TENSOR_V3, REBUILD_PARAMETER,
        REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2, STORAGE_TYPE, DTYPE, TORCH_SIZE, TORCH_DEVICE,
        TENSOR_CLASS, PARAMETER_CLASS, CODECS_ENCODE, NOT_READ
    }

    private static final Map<String, AllowedGlobal> TABLE = table();

    /** The allow-list entry for {@code module.name}, or empty when the name is refused. */
    static Optional<AllowedGlobal> lookup(String module, String name) {
        String m = switch (module) {
            case "__builtin__" -> "builtins"; // Python 2 spelling, remapped as pickle does
            default -> module;
        };
        return Optional.ofNullable(TABLE.get(m + "." + name));
    }

    private static Map<String, AllowedGlobal> table() {
        Map<String, AllowedGlobal> t = new HashMap<>();
        put(t, "collections.OrderedDict", Role.ORDERED_DICT);
        put(t, "torch._utils._rebuild_tensor", Role.REBUILD_TENSOR);
        put(t, "torch._utils._rebuild_tensor_v2", Role.REBUILD_TENSOR_V2);
        put(t, "torch._utils._rebuild_tensor_v3", Role.REBUILD_TENSOR_V3);
        put(t, "torch._utils._rebuild_parameter", Role.REBUILD_PARAMETER);
        put(t, "torch._utils._rebuild_parameter_with_state", Role.REBUILD_PARAMETER_WITH_STATE);
        put(t, "torch._tensor._rebuild_from_type_v2", Role.REBUILD_FROM_TYPE_V2);
        put(t, "torch.Size", Role.TORCH_SIZE);
        put(t, "torch.device", Role.TORCH_DEVICE);
        put(t, "torch.Tensor", Role.TENSOR_CLASS);
        put(t, "torch.nn.parameter.Parameter", Role.PARAMETER_CLASS);
        put(t, "_codecs.encode", Role.CODECS_ENCODE);
        // torch/storage.py::_dtype_to_storage_type_map, plus the untyped storage of newer dtypes.
        storage(t, "DoubleStorage", DType.F64);
        storage(t, "FloatStorage", DType.F32);
        storage(t, "HalfStorage", DType.F16);
        storage(t, "BFloat16Storage", DType.BF16);
        storage(t, "LongStorage", DType.I64);
        storage(t, "IntStorage", DType.I32);
        storage(t, "ShortStorage", DType.I16);
        storage(t, "CharStorage", DType.I8);
        storage(t, "ByteStorage", DType.U8);
        storage(t, "BoolStorage", DType.BOOL);
        storage(t, "ComplexFloatStorage", DType.C64);
        storage(t, "UntypedStorage", DType.U8);
        // torch 2.x writes the untyped storage under its defining module (seen in a torch 2.13 file)
        t.put("torch.storage.UntypedStorage", new AllowedGlobal("torch.storage.UntypedStorage", Role.STORAGE_TYPE, DType.U8));
        for (String s : new String[] {"ComplexDoubleStorage", "QInt8Storage", "QInt32Storage", "QUInt8Storage",
                "QUInt4x2Storage", "QUInt2x4Storage"}) {
            put(t, "torch." + s, Role.NOT_READ);
        }
        dtype(t, DType.F64, "float64", "double");
        dtype(t, DType.F32, "float32", "float");
        dtype(t, DType.F16, "float16", "half");
        dtype(t, DType.BF16, "bfloat16");
        dtype(t, DType.I64, "int64", "long");
        dtype(t, DType.I32, "int32", "int");
        dtype(t, DType.I16, "int16", "short");
        dtype(t, DType.I8, "int8");
        dtype(t, DType.U8, "uint8");
        dtype(t, DType.U16, "uint16");
        dtype(t, DType.U32, "uint32");
        dtype(t, DType.U64, "uint64");
        dtype(t, DType.BOOL, "bool");
        dtype(t, DType.C64, "complex64", "cfloat");
        dtype(t, DType.F8_E4M3, "float8_e4m3fn");
        dtype(t, DType.F8_E5M2, "float8_e5m2");
        dtype(t, DType.F8_E4M3FNUZ, "float8_e4m3fnuz");
        dtype(t, DType.F8_E5M2FNUZ, "float8_e5m2fnuz");
        dtype(t, DType.F8_E8M0, "float8_e8m0fnu");
        for (String n : new String[] {"complex128", "cdouble", "complex32", "chalf", "qint8", "quint8", "qint32",
                "quint4x2", "quint2x4", "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1",
                "int2", "int3", "int4", "int5", "int6", "int7", "float4_e2m1fn_x2", "bits8", "bits16",
                "per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
                "per_channel_affine_float_qparams"}) {
            put(t, "torch." + n, Role.NOT_READ);
        }
        for (String n : new String[] {"collections.Counter", "builtins.set", "builtins.bytearray", "builtins.complex",
                "torch.serialization._get_layout", "torch._utils._rebuild_qtensor",
                "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
                "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
                "torch._utils._rebuild_device_tensor_from_cpu_tensor"}) {
            put(t, n, Role.NOT_READ);
        }
        return Map.copyOf(t);
    }

    private static void put(Map<String, AllowedGlobal> t, String name, Role role) {
        t.put(name, new AllowedGlobal(name, role, null));
    }

    private static void storage(Map<String, AllowedGlobal> t, String name, DType dtype) {
        t.put("torch." + name, new AllowedGlobal("torch." + name, Role.STORAGE_TYPE, dtype));
    }

    private static void dtype(Map<String, AllowedGlobal> t, DType dtype, String... names) {
        for (String n : names) {
            t.put("torch." + n, new AllowedGlobal("torch." + n, Role.DTYPE, dtype));
        }
    }
}

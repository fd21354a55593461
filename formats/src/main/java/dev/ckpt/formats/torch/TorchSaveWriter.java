package dev.ckpt.formats.torch;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorRecipe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Writes a state dict in the byte layout of {@code torch.save(state_dict, f)} (PyTorch ≥ 2.1,
 * reference C1-C3): records {@code <archive>/data.pkl}, {@code .format_version},
 * {@code .storage_alignment}, {@code byteorder}, {@code data/0..n-1}, {@code version},
 * {@code .data/serialization_id}; a protocol-2 pickle of an {@code OrderedDict} whose values are
 * {@code _rebuild_tensor_v2} calls on BINPERSID storages, and the {@code _metadata} attribute set by
 * BUILD. Storages may be shared by several tensors (tied weights, views with offsets) and tensors may
 * be strided (transposed). Used for test fixtures and benchmark inputs: storage bytes are produced by
 * {@link TensorRecipe}s straight into the mapped output file, so memory stays bounded. Not
 * thread-safe; {@link #write} once.
 */
public final class TorchSaveWriter {

    /** One storage record ({@code data/<key>}): element type, element count, and its bytes. */
    public static final class Storage {
        private final DType dtype;
        private final long elementCount;
        private final TensorRecipe fill;
        private String key;

        private Storage(DType dtype, long elementCount, TensorRecipe fill) {
            this.dtype = dtype;
            this.elementCount = elementCount;
            this.fill = fill;
        }
    }

    private record Tensor(String name, Storage storage, long offset, long[] size, long[] stride) {
    }

    private final String archiveName;
    private final List<Tensor> tensors = new ArrayList<>();
    private String wrapKey;
    private boolean forceZip64;
    private boolean metadata = true;
    private String serializationId = "1234567890123456789012345678901234567890";

    /** @param archiveName the top folder of every record ({@code "archive"} when saving to a stream) */
    public TorchSaveWriter(String archiveName) {
        this.archiveName = Objects.requireNonNull(archiveName, "archiveName");
    }

    /** A new storage of {@code elementCount} elements; {@code fill} writes its little-endian bytes. */
    public Storage storage(DType dtype, long elementCount, TensorRecipe fill) {
        if (storageClass(dtype) == null) {
            throw new IllegalArgumentException("torch has no typed storage for " + dtype);
        }
        return new Storage(dtype, elementCount, fill);
    }

    /** Adds a tensor that is a strided window (all in elements) on {@code storage}. */
    public TorchSaveWriter tensor(String name, Storage storage, long offset, long[] size, long[] stride) {
        if (size.length != stride.length) {
            throw new IllegalArgumentException("size and stride ranks differ");
        }
        tensors.add(new Tensor(name, storage, offset, size.clone(), stride.clone()));
        return this;
    }

    /** Adds a contiguous tensor with a storage of its own. */
    public TorchSaveWriter tensor(String name, DType dtype, long[] size, TensorRecipe fill) {
        long n = 1;
        for (long d : size) {
            n = Math.multiplyExact(n, d);
        }
        return tensor(name, storage(dtype, n, fill), 0, size, contiguousStride(size));
    }

    /** Nests the state dict under {@code key}, as {@code torch.save({key: state_dict})} does. */
    public TorchSaveWriter wrapIn(String key) {
        this.wrapKey = key;
        return this;
    }

    /** Writes zip64 end records and central entries even for a small archive (tests the zip64 path). */
    public TorchSaveWriter forceZip64(boolean force) {
        this.forceZip64 = force;
        return this;
    }

    /** Whether to write the {@code _metadata} attribute {@code Module.state_dict()} sets (default true). */
    public TorchSaveWriter metadata(boolean write) {
        this.metadata = write;
        return this;
    }

    /** The {@code .data/serialization_id} record (torch writes 40 random digits per save). */
    public TorchSaveWriter serializationId(String id) {
        this.serializationId = Objects.requireNonNull(id, "id");
        return this;
    }

    /** Row-major strides for {@code size}. */
    public static long[] contiguousStride(long[] size) {
        long[] stride = new long[size.length];
        long s = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            stride[i] = s;
            s *= Math.max(1, size[i]);
        }
        return stride;
    }

    /** Writes the archive to {@code file}, which must not exist. */
    public void write(Path file) throws IOException {
        List<Storage> storages = assignKeys();
        byte[] pickle = pickle(false);
        String p = archiveName + "/";
        try (TorchZipWriter zip = new TorchZipWriter(file, forceZip64)) {
            zip.add(p + "data.pkl", pickle);
            zip.add(p + ".format_version", ascii("1"));
            zip.add(p + ".storage_alignment", ascii(String.valueOf(TorchZipWriter.ALIGNMENT)));
            zip.add(p + "byteorder", ascii("little"));
            for (Storage s : storages) {
                zip.add(p + "data/" + s.key, s.dtype.byteSizeFor(s.elementCount), s.fill);
            }
            zip.add(p + "version", ascii("3\n"));
            zip.add(p + ".data/serialization_id", ascii(serializationId));
            zip.finish();
        }
    }

    private List<Storage> assignKeys() {
        List<Storage> storages = new ArrayList<>();
        for (Tensor t : tensors) {
            if (t.storage().key == null) {
                t.storage().key = String.valueOf(storages.size()); // persistent_id: order of first appearance
                storages.add(t.storage());
            }
        }
        return storages;
    }

    /**
     * Writes the legacy (pre-1.6) stream instead (reference C5): pickles of the magic number, the
     * protocol version 1001, {@code sys_info}, the object (6-field persistent ids) and the sorted
     * storage keys, then each storage as an int64 little-endian element count and its bytes.
     */
    public void writeLegacy(Path file) throws IOException {
        List<Storage> storages = new ArrayList<>(assignKeys());
        storages.sort(Comparator.comparing(s -> s.key)); // sorted(serialized_storages.keys())
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.writeBytes(legacyPreamble());
        head.writeBytes(pickle(true));
        TorchPickleEncoder keys = new TorchPickleEncoder();
        keys.proto2();
        keys.op(']');
        keys.mark();
        storages.forEach(s -> keys.str(s.key, new Object()));
        keys.op('e');
        keys.stop();
        head.writeBytes(keys.bytes());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ)) {
            long pos = ch.write(ByteBuffer.wrap(head.toByteArray()), 0);
            for (Storage s : storages) {
                ByteBuffer count = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                pos += ch.write(count.putLong(0, s.elementCount), pos); // int64 numel, little-endian
                long bytes = s.dtype.byteSizeFor(s.elementCount);
                if (bytes > 0) {
                    try (Arena arena = Arena.ofConfined()) {
                        s.fill.fill(ch.map(FileChannel.MapMode.READ_WRITE, pos, bytes, arena));
                    }
                }
                pos += bytes;
            }
        }
    }

    /** The first three legacy pickles: magic number, protocol version 1001, sys_info. */
    private static byte[] legacyPreamble() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TorchPickleEncoder magic = new TorchPickleEncoder();
        magic.proto2();
        magic.op(0x8a); // LONG1, 10 bytes little-endian: 0x1950a86a20f9469cfc6c
        magic.op(10);
        for (int b : new int[] {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}) {
            magic.op(b);
        }
        magic.stop();
        out.writeBytes(magic.bytes());
        TorchPickleEncoder version = new TorchPickleEncoder();
        version.proto2();
        version.integer(1001);
        version.stop();
        out.writeBytes(version.bytes());
        TorchPickleEncoder sys = new TorchPickleEncoder();
        sys.proto2();
        sys.emptyDict();
        sys.setItems(List.of(
                () -> entry(sys, "protocol_version", () -> sys.integer(1001)),
                () -> entry(sys, "little_endian", () -> sys.bool(true)),
                () -> entry(sys, "type_sizes", () -> {
                    sys.emptyDict();
                    sys.setItems(List.of(() -> entry(sys, "short", () -> sys.integer(2)),
                            () -> entry(sys, "int", () -> sys.integer(4)),
                            () -> entry(sys, "long", () -> sys.integer(8))));
                })));
        sys.stop();
        out.writeBytes(sys.bytes());
        return out.toByteArray();
    }

    private static void entry(TorchPickleEncoder e, String key, Runnable value) {
        e.str(key, new Object());
        value.run();
    }

    private byte[] pickle(boolean legacy) {
        TorchPickleEncoder e = new TorchPickleEncoder();
        Object storageLiteral = new Object();
        Object cpuLiteral = new Object();
        e.proto2();
        if (wrapKey != null) {
            e.emptyDict();
            e.str(wrapKey, new Object());
        }
        e.emptyOrderedDict();
        e.setItems(tensors.stream().<Runnable>map(t -> () -> {
            e.str(t.name(), new Object());
            writeTensor(e, t, storageLiteral, cpuLiteral, legacy);
        }).toList());
        if (metadata) {
            // state = {'_metadata': OrderedDict({'': {'version': 1}})}, then BUILD
            e.emptyDict();
            e.str("_metadata", new Object());
            e.emptyOrderedDict();
            e.str("", new Object());
            e.emptyDict();
            e.str("version", new Object());
            e.integer(1);
            e.op('s');
            e.op('s');
            e.op('s');
            e.op('b');
        }
        if (wrapKey != null) {
            e.op('s');
        }
        e.stop();
        return e.bytes();
    }

    private static void writeTensor(TorchPickleEncoder e, Tensor t, Object storageLiteral, Object cpuLiteral,
                                    boolean legacy) {
        e.global("torch._utils", "_rebuild_tensor_v2");
        e.mark();
        // persistent_id: ('storage', storage_type, key, location, numel)
        e.mark();
        e.str("storage", storageLiteral);
        e.global("torch", storageClass(t.storage().dtype));
        e.str(t.storage().key, t.storage());
        e.str("cpu", cpuLiteral);
        e.integer(t.storage().elementCount);
        if (legacy) {
            e.op('N'); // view_metadata
        }
        e.tupleFromMark();
        e.op('Q');
        e.integer(t.offset());
        e.intTuple(t.size());
        e.intTuple(t.stride());
        e.bool(false);
        e.emptyOrderedDict();
        e.tupleFromMark();
        e.reduce();
    }

    private static String storageClass(DType dtype) {
        return switch (dtype) {
            case F64 -> "DoubleStorage";
            case F32 -> "FloatStorage";
            case F16 -> "HalfStorage";
            case BF16 -> "BFloat16Storage";
            case I64 -> "LongStorage";
            case I32 -> "IntStorage";
            case I16 -> "ShortStorage";
            case I8 -> "CharStorage";
            case U8 -> "ByteStorage";
            case BOOL -> "BoolStorage";
            case C64 -> "ComplexFloatStorage";
            default -> null;
        };
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}

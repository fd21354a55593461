package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.torch.PyValues.PyDict;
import dev.ckpt.formats.torch.PyValues.PyList;
import dev.ckpt.formats.torch.PyValues.StorageRef;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The legacy {@code torch.save} stream (PyTorch &lt; 1.6, or {@code _use_new_zipfile_serialization=False};
 * reference C5): five consecutive pickles — the magic number {@code 0x1950a86a20f9469cfc6c}, the
 * protocol version 1001, a {@code sys_info} dict, the object (persistent ids
 * {@code ('storage', type, key, location, numel, view_metadata)}), the list of storage keys — then,
 * per key in that order, an int64 little-endian element count and the raw bytes. Every pickle runs
 * on the same {@link RestrictedUnpickler}; storage blocks are located by walking their counts and
 * are zero-copy slices of the mapped file. Storage views ({@code view_metadata} not None) and
 * big-endian files are refused.
 */
final class LegacyTorchFormat {
    private static final BigInteger MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long PROTOCOL_VERSION = 1001;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The unpickled object and where each storage's bytes are. */
    record Read(Object root, StorageRecords records) {
    }

    private LegacyTorchFormat() {
    }

    static Read read(Path path, MemorySegment file, PickleLimits limits) throws FormatException {
        long[] pos = {0};
        StateDictCalls plain = new StateDictCalls(path, limits, key -> -1);
        Object magic = next(path, file, pos, "magic number pickle", limits, plain);
        if (!MAGIC.equals(magic instanceof Long l ? BigInteger.valueOf(l) : magic)) {
            throw new FormatException(path, Kind.UNREADABLE, "legacy torch.save stream with a wrong magic number");
        }
        if (!Long.valueOf(PROTOCOL_VERSION).equals(next(path, file, pos, "protocol version pickle", limits, plain))) {
            throw new FormatException(path, Kind.UNSUPPORTED, "legacy torch.save stream with a protocol version other than 1001");
        }
        Object sysInfo = next(path, file, pos, "sys_info pickle", limits, plain);
        if (!(sysInfo instanceof PyDict info) || !Boolean.TRUE.equals(info.items.get("little_endian"))) {
            throw new FormatException(path, Kind.UNSUPPORTED, "legacy torch.save stream from a big-endian machine"
                    + " (or without sys_info); only little-endian checkpoints are read");
        }
        StateDictCalls calls = new StateDictCalls(path, limits, key -> Long.MAX_VALUE); // sizes known after the keys
        Object root = next(path, file, pos, "object pickle", limits, calls);
        Object keys = next(path, file, pos, "storage key list pickle", limits, plain);
        if (!(keys instanceof PyList list)) {
            throw new FormatException(path, Kind.INVALID_VALUE, "legacy torch.save stream: storage keys are a "
                    + PyValues.typeName(keys) + ", expected a list");
        }
        Map<String, StorageRef> referenced = calls.storages();
        Map<String, MemorySegment> blocks = new HashMap<>();
        Map<String, Long> offsets = new HashMap<>();
        for (Object k : list.items) {
            if (!(k instanceof String key) || !referenced.containsKey(key) || blocks.containsKey(key)) {
                throw new FormatException(path, Kind.INVALID_VALUE, "legacy torch.save stream: storage key "
                        + PyValues.printable(k) + " is not a str the object pickle references exactly once");
            }
            StorageRef ref = referenced.get(key);
            if (file.byteSize() - pos[0] < 8) {
                throw truncated(path, key);
            }
            long count = file.get(I64, pos[0]);
            long bytes;
            try {
                bytes = ref.dtype().byteSizeFor(count);
            } catch (ArithmeticException e) {
                bytes = -1;
            }
            if (count < ref.elementCount() || bytes < 0) {
                throw new FormatException(path, Kind.INVALID_VALUE, "legacy storage " + PyValues.printable(key)
                        + " holds " + count + " elements but the pickle declares " + ref.elementCount());
            }
            if (bytes > file.byteSize() - pos[0] - 8) {
                throw truncated(path, key);
            }
            blocks.put(key, file.asSlice(pos[0] + 8, bytes));
            offsets.put(key, pos[0] + 8);
            pos[0] += 8 + bytes;
        }
        if (blocks.size() != referenced.size()) {
            throw new FormatException(path, Kind.TRUNCATED, "legacy torch.save stream lists " + blocks.size()
                    + " storages but the object pickle references " + referenced.size());
        }
        return new Read(root, new Blocks(blocks, offsets));
    }

    private static Object next(Path path, MemorySegment file, long[] pos, String what, PickleLimits limits,
                               StateDictCalls calls) throws FormatException {
        RestrictedUnpickler vm = new RestrictedUnpickler(path, what, file.asSlice(pos[0]), limits, calls);
        Object value = vm.load();
        pos[0] += vm.position();
        return value;
    }

    private static FormatException truncated(Path path, String key) {
        return new FormatException(path, Kind.TRUNCATED, "legacy torch.save stream ends inside storage "
                + PyValues.printable(key) + " (truncated download?)");
    }

    /** Storage blocks located after the pickles. */
    private record Blocks(Map<String, MemorySegment> blocks, Map<String, Long> offsets) implements StorageRecords {
        @Override
        public long byteSize(String key) {
            MemorySegment s = blocks.get(key);
            return s == null ? -1 : s.byteSize();
        }

        @Override
        public MemorySegment bytes(String key) {
            return blocks.get(key);
        }

        @Override
        public long fileOffset(String key) {
            return offsets.get(key);
        }
    }
}

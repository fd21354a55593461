package dev.ckpt.formats.torch;

import dev.ckpt.formats.FileRange;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.torch.PyValues.TensorRef;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A PyTorch checkpoint written by {@code torch.save} (zip format, PyTorch ≥ 1.6), read without
 * executing its pickle: the archive is memory-mapped, {@code data.pkl} runs on a
 * {@link RestrictedUnpickler} whose allow-list only knows state-dict vocabulary, and tensors are
 * windows on the stored {@code data/<key>} records. Contiguous tensors are zero-copy slices of the
 * mapping; non-contiguous ones (transposed or strided views) are gathered on {@link #view} into
 * memory released by the garbage collector once the view is unreachable and the tensor has left a
 * small cache of the last {@value #GATHER_CACHE_TENSORS} gathered tensors (so memory is bounded by
 * a few tensors, and chunked readers gather each tensor once). Tensors sharing a storage (tied weights) are reported by
 * {@link #sharedStorages()}. Legacy (pre-1.6, non-zip) files are read too ({@link LegacyTorchFormat}).
 * Owns one shared arena: {@link #close()} unmaps, after which views must not be used.
 */
public final class TorchBinFile implements TensorFile {

    /**
     * How to read the pickle.
     *
     * @param unwrapKey top-level key whose dict is the state dict (e.g. {@code "state_dict"}), or
     *                  null for the automatic rule of {@link StateDictLayout}
     */
    public record Options(String unwrapKey) {
        public static final Options DEFAULTS = new Options(null);
    }

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    /** Start of a legacy file: PROTO 2, LONG1 of 10 bytes, then the little-endian magic number 0x1950a86a20f9469cfc6c. */
    static final byte[] LEGACY_MAGIC = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
            (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    /** Gathered tensors kept for repeated {@link #view} calls (about one per writer thread). */
    static final int GATHER_CACHE_TENSORS = 4;

    private final Path path;
    private final Arena arena;
    private final StorageRecords records;
    private final Map<String, TensorRef> refs;
    private final List<TensorInfo> tensors;
    private final List<String> notes;
    /**
     * The last few gathered (non-contiguous) tensors, so a writer that asks for the same view chunk
     * by chunk gathers it once. Bounded: evicted copies are freed by the GC once no view holds them.
     */
    private final Map<String, MemorySegment> gathered = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, MemorySegment> eldest) {
            return size() > GATHER_CACHE_TENSORS;
        }
    };

    private TorchBinFile(Path path, Arena arena, StorageRecords records, StateDictLayout layout) {
        this.path = path;
        this.arena = arena;
        this.records = records;
        this.refs = layout.tensors();
        this.notes = layout.notes();
        List<TensorInfo> infos = new ArrayList<>(refs.size());
        refs.forEach((name, t) -> infos.add(new TensorInfo(name, t.dtype(), Shape.of(t.size()))));
        this.tensors = List.copyOf(infos);
    }

    /** Opens {@code path} with the default {@link Options}. */
    public static TorchBinFile open(Path path) throws IOException {
        return open(path, Options.DEFAULTS);
    }

    /**
     * Maps and validates a torch.save checkpoint: zip directory, pickle (allow-list), every
     * tensor's extent inside its storage record. Reads no tensor bytes.
     *
     * @throws UnsafePickleException when the pickle references a global outside the allow-list
     * @throws FormatException when the file is not a readable torch.save state dict
     */
    public static TorchBinFile open(Path path, Options options) throws IOException {
        return open(path, options, PickleLimits.DEFAULTS);
    }

    static TorchBinFile open(Path path, Options options, PickleLimits limits) throws IOException {
        Objects.requireNonNull(options, "options");
        Arena arena = Arena.ofShared();
        boolean success = false;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            TorchBinFile opened;
            if (startsWith(file, LEGACY_MAGIC)) {
                LegacyTorchFormat.Read legacy = LegacyTorchFormat.read(path, file, limits);
                opened = new TorchBinFile(path, arena, legacy.records(),
                        StateDictLayout.of(path, legacy.root(), options.unwrapKey()));
            } else {
                checkMagic(path, file);
                ZipArchive zip = ZipArchive.read(path, file);
                String prefix = prefix(path, zip);
                checkByteOrder(path, zip, prefix);
                ZipArchive.Entry pkl = zip.entry(prefix + "data.pkl").orElseThrow(() -> missingPickle(path, zip, prefix));
                StorageRecords records = new StorageRecords.Zip(zip, prefix);
                StateDictCalls calls = new StateDictCalls(path, limits, records::byteSize);
                Object root = new RestrictedUnpickler(path, prefix + "data.pkl", zip.storedBytes(pkl), limits, calls).load();
                opened = new TorchBinFile(path, arena, records, StateDictLayout.of(path, root, options.unwrapKey()));
            }
            success = true;
            return opened;
        } finally {
            if (!success) {
                arena.close();
            }
        }
    }

    private static void checkMagic(Path path, MemorySegment file) throws FormatException {
        if (startsWith(file, ZIP_MAGIC)) {
            return;
        }
        if (file.byteSize() > 262 && new String(file.asSlice(257, 5).toArray(ValueLayout.JAVA_BYTE),
                StandardCharsets.US_ASCII).equals("ustar")) {
            throw new FormatException(path, Kind.UNSUPPORTED, "tar-format torch checkpoint (PyTorch < 0.4) is not read;"
                    + " re-save it with a current PyTorch");
        }
        throw new FormatException(path, Kind.UNREADABLE, "not a torch.save checkpoint: expected a zip archive "
                + "(bytes PK\\x03\\x04) or a pickle, found " + hex(file.asSlice(0, Math.min(8, file.byteSize()))));
    }

    private static String prefix(Path path, ZipArchive zip) throws FormatException {
        if (zip.entries().isEmpty()) {
            throw new FormatException(path, Kind.TRUNCATED, "zip archive has no entries; expected <name>/data.pkl");
        }
        String first = zip.entries().keySet().iterator().next();
        int slash = first.indexOf('/');
        if (slash <= 0) {
            throw new FormatException(path, Kind.INVALID_HEADER, "zip entry '" + PyValues.printable(first)
                    + "' is not in a top folder; torch.save puts every record under <name>/");
        }
        return first.substring(0, slash + 1);
    }

    private static void checkByteOrder(Path path, ZipArchive zip, String prefix) throws FormatException {
        var entry = zip.entry(prefix + "byteorder");
        if (entry.isEmpty()) {
            return; // before PyTorch 2.1: little-endian
        }
        String order = new String(zip.storedBytes(entry.get()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
        if (!order.equals("little")) {
            throw new FormatException(path, Kind.UNSUPPORTED, "byteorder record says '" + PyValues.printable(order.strip())
                    + "'; only little-endian checkpoints are read (re-save on a little-endian machine)");
        }
    }

    private static FormatException missingPickle(Path path, ZipArchive zip, String prefix) {
        boolean torchScript = zip.entry(prefix + "constants.pkl").isPresent();
        return new FormatException(path, torchScript ? Kind.UNSUPPORTED : Kind.TRUNCATED, torchScript
                ? "TorchScript archive (torch.jit.save) is not a state dict; save model.state_dict() with torch.save"
                : "zip archive has no " + prefix + "data.pkl record (truncated or not written by torch.save)");
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** What reading decided: unwrapped keys, skipped non-tensor entries. One sentence each. */
    @Override
    public List<String> notes() {
        return notes;
    }

    /**
     * Groups of tensor names (in file order) that share one storage record: tied weights and views.
     * Each group has at least two names; a safetensors writer must write each name's bytes on its own.
     */
    @Override
    public List<List<String>> sharedStorages() {
        Map<String, List<String>> byKey = new LinkedHashMap<>();
        refs.forEach((name, t) -> byKey.computeIfAbsent(t.storage().key(), k -> new ArrayList<>()).add(name));
        return byKey.values().stream().filter(g -> g.size() > 1).map(List::copyOf).toList();
    }

    /** True when the named tensor's bytes lie contiguously in its storage (view is zero-copy). */
    public boolean isContiguous(String name) {
        TensorRef t = ref(name);
        return StridedGather.isContiguous(t.size(), t.stride());
    }

    /** Contiguous tensors: their range of this file (storage record offset + storage offset). */
    @Override
    public Optional<FileRange> fileRange(String name) {
        TensorRef t = ref(name);
        if (!StridedGather.isContiguous(t.size(), t.stride())) {
            return Optional.empty();
        }
        long bytes = t.dtype().byteSizeFor(Shape.of(t.size()).elementCount());
        return Optional.of(new FileRange(path, records.fileOffset(t.storage().key())
                + t.storageOffset() * (t.dtype().bitSize() / 8), bytes));
    }

    @Override
    public TensorView view(String name) throws IOException {
        TensorRef t = ref(name);
        TensorInfo info = new TensorInfo(name, t.dtype(), Shape.of(t.size()));
        MemorySegment storage = records.bytes(t.storage().key());
        long bytes = info.byteSize();
        int elementBytes = t.dtype().bitSize() / 8;
        if (StridedGather.isContiguous(t.size(), t.stride())) {
            return new TensorView(info, storage.asSlice(t.storageOffset() * elementBytes, bytes).asReadOnly());
        }
        MemorySegment copy;
        synchronized (gathered) {
            copy = gathered.get(name);
        }
        if (copy == null) {
            copy = Arena.ofAuto().allocate(bytes, 64);
            StridedGather.gather(storage, t.storageOffset(), t.size(), t.stride(), elementBytes, copy);
            synchronized (gathered) {
                gathered.put(name, copy);
            }
        }
        return new TensorView(info, copy.asReadOnly());
    }

    private TensorRef ref(String name) {
        TensorRef t = refs.get(name);
        if (t == null) {
            throw new IllegalArgumentException(path.getFileName() + " has no tensor '" + name + "'");
        }
        return t;
    }

    /** Shape of the named tensor. */
    public Shape shape(String name) {
        return Shape.of(ref(name).size());
    }

    @Override
    public void close() {
        arena.close();
    }

    static boolean startsWith(MemorySegment file, byte[] magic) {
        if (file.byteSize() < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (file.get(ValueLayout.JAVA_BYTE, i) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static String hex(MemorySegment bytes) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes.toArray(ValueLayout.JAVA_BYTE)) {
            b.append(String.format("%02x", x));
        }
        return b.isEmpty() ? "an empty file" : b.toString();
    }
}

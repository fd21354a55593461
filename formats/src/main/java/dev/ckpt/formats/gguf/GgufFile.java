package dev.ckpt.formats.gguf;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF v3 file, memory-mapped and validated as a whole before anything is handed out
 * ({@link GgufHeaderParser} has the rules). Tensor bytes are zero-copy slices of the mapping.
 *
 * <p>{@link #tensors()} reports unquantized tensors with their dtype and row-major shape. A quantized
 * tensor is reported as {@link DType#U8} with shape {@code [rows..., rowBytes]}: its raw block bytes,
 * so that generic tools (inspect, copy) can handle it; {@link #ggufTensors()} has the ggml type and
 * dims, and the quant codecs in {@code tools} decode it.
 */
public final class GgufFile implements TensorFile {
    /** Default alignment when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> ggufTensors;
    private final Map<String, GgufTensorInfo> byName;
    private final List<TensorInfo> tensors;
    private final int alignment;

    private GgufFile(Path path, Arena arena, MemorySegment data, GgufHeaderParser.Header header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.metadata = Collections.unmodifiableMap(header.metadata());
        this.ggufTensors = List.copyOf(header.tensors());
        this.alignment = header.alignment();
        Map<String, GgufTensorInfo> m = new LinkedHashMap<>();
        List<TensorInfo> infos = new ArrayList<>();
        for (GgufTensorInfo t : ggufTensors) {
            m.put(t.name(), t);
            infos.add(tensorInfo(t));
        }
        this.byName = m;
        this.tensors = List.copyOf(infos);
    }

    /**
     * Maps and validates a GGUF file.
     *
     * @throws FormatException when the file breaks the GGUF v3 spec or a limit (exit code 3)
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufHeaderParser.Header header = new GgufHeaderParser(path, whole).parse();
            MemorySegment data = whole.asSlice(header.dataStart());
            return new GgufFile(path, arena, data, header);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The TensorInfo a GGUF tensor is reported as (see the class comment for quantized types). */
    public static TensorInfo tensorInfo(GgufTensorInfo t) {
        DType d = t.type().dtype();
        if (d != null) {
            return new TensorInfo(t.name(), d, t.shape());
        }
        long[] dims = t.shape().dims();
        if (dims.length == 0) {
            dims = new long[] {1};
        }
        dims[dims.length - 1] = t.type().rowBytes(t.rowLength());
        return new TensorInfo(t.name(), DType.U8, Shape.of(dims));
    }

    @Override
    public Path path() {
        return path;
    }

    /** Metadata key/values in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    public Optional<GgufValue> value(String key) {
        return Optional.ofNullable(metadata.get(key));
    }

    /** GGUF tensor infos (ggml type, dims innermost-first, offsets) in file order. */
    public List<GgufTensorInfo> ggufTensors() {
        return ggufTensors;
    }

    public Optional<GgufTensorInfo> ggufTensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public int alignment() {
        return alignment;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The raw bytes of a tensor (block bytes for quantized types). */
    public MemorySegment bytes(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + path.getFileName());
        }
        return data.asSlice(t.offset(), t.byteSize());
    }

    @Override
    public TensorView view(String name) {
        GgufTensorInfo t = byName.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no tensor " + name + " in " + path.getFileName());
        }
        return new TensorView(tensorInfo(t), data.asSlice(t.offset(), t.byteSize()).asReadOnly());
    }

    @Override
    public void close() {
        arena.close();
    }

    static FormatException error(Path path, Kind kind, String msg) {
        return new FormatException(path, kind, msg);
    }
}

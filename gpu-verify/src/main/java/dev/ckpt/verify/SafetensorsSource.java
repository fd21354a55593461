package dev.ckpt.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A minimal safetensors checkpoint reader: one {@code .safetensors} file, or a directory with
 * {@code model.safetensors.index.json}, {@code model.safetensors} or any {@code *.safetensors}.
 * Files are mapped read-only into one shared arena owned by this source; headers are validated
 * (size cap, known dtypes, offsets inside the data region and matching the shape).
 */
public final class SafetensorsSource implements WeightSource {
    private static final long MAX_HEADER_BYTES = 100_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(TensorInfo info, Path file, MemorySegment data) {
    }

    private final Path root;
    private final Arena arena;
    private final Map<String, Entry> entries;
    private final ObjectNode config;

    private SafetensorsSource(Path root, Arena arena, Map<String, Entry> entries, ObjectNode config) {
        this.root = root;
        this.arena = arena;
        this.entries = entries;
        this.config = config;
    }

    /**
     * Opens and validates every shard of the checkpoint at {@code path}.
     *
     * @throws FormatException when a file is not valid safetensors or no weights are found
     */
    public static SafetensorsSource open(Path path) throws IOException {
        Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
        List<Path> files = weightFiles(path);
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try {
            Map<String, Entry> entries = new LinkedHashMap<>();
            for (Path f : files) {
                readFile(f, arena, entries);
            }
            ObjectNode config = null;
            Path cfg = dir.resolve("config.json");
            if (Files.isRegularFile(cfg)) {
                JsonNode node = readJson(cfg);
                if (!(node instanceof ObjectNode o)) {
                    throw new FormatException(cfg, Kind.INVALID_JSON, "config.json is not a JSON object");
                }
                config = o;
            }
            ok = true;
            return new SafetensorsSource(path, arena, entries, config);
        } finally {
            if (!ok) {
                arena.close();
            }
        }
    }

    private static List<Path> weightFiles(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new java.nio.file.NoSuchFileException(path.toString());
        }
        if (!Files.isDirectory(path)) {
            return List.of(path);
        }
        Path index = path.resolve("model.safetensors.index.json");
        if (Files.isRegularFile(index)) {
            JsonNode map = readJson(index).path("weight_map");
            if (!map.isObject()) {
                throw new FormatException(index, Kind.INVALID_INDEX, "no \"weight_map\" object");
            }
            LinkedHashSet<Path> shards = new LinkedHashSet<>();
            for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
                Path shard = path.resolve(it.next().asText());
                if (!Files.isRegularFile(shard)) {
                    throw new FormatException(index, Kind.MISSING_SHARD, "shard " + shard.getFileName() + " is missing");
                }
                shards.add(shard);
            }
            return List.copyOf(shards);
        }
        Path single = path.resolve("model.safetensors");
        if (Files.isRegularFile(single)) {
            return List.of(single);
        }
        try (Stream<Path> s = Files.list(path)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            if (all.isEmpty()) {
                throw new FormatException(path, Kind.UNSUPPORTED,
                        "no *.safetensors weights found (convert .bin/GGUF checkpoints with 'ckpt convert' first)");
            }
            return all;
        }
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(file, Kind.INVALID_JSON, "invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static void readFile(Path file, Arena arena, Map<String, Entry> entries) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new FormatException(file, Kind.HEADER_TOO_SMALL, "file is " + size + " bytes, needs at least 8");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
                throw new FormatException(file, Kind.HEADER_TOO_LARGE, "header length " + headerLen + " exceeds " + MAX_HEADER_BYTES);
            }
            if (8 + headerLen > size) {
                throw new FormatException(file, Kind.INVALID_HEADER_LENGTH, "header length " + headerLen + " runs past the end of the file (" + size + " bytes)");
            }
            byte[] header = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw new FormatException(file, Kind.INVALID_HEADER, "header is not valid JSON: " + e.getOriginalMessage(), e);
            }
            MemorySegment data = all.asSlice(8 + headerLen);
            for (var it = root.properties().iterator(); it.hasNext(); ) {
                var field = it.next();
                if (field.getKey().equals("__metadata__")) {
                    continue;
                }
                TensorInfo info = parseInfo(file, field.getKey(), field.getValue());
                JsonNode off = field.getValue().path("data_offsets");
                long begin = off.path(0).asLong(-1);
                long end = off.path(1).asLong(-1);
                if (begin < 0 || end < begin || end > data.byteSize() || end - begin != info.byteSize()) {
                    throw new FormatException(file, Kind.INVALID_OFFSET, "tensor '" + info.name() + "' spans [" + begin + ", " + end
                            + ") but " + info.dtype() + info.shape() + " needs " + info.byteSize() + " bytes inside " + data.byteSize());
                }
                if (entries.putIfAbsent(info.name(), new Entry(info, file, data.asSlice(begin, end - begin))) != null) {
                    throw new FormatException(file, Kind.DUPLICATE_TENSOR, "tensor '" + info.name() + "' appears twice");
                }
            }
        }
    }

    private static TensorInfo parseInfo(Path file, String name, JsonNode node) throws FormatException {
        DType dtype = DType.bySafetensorsName(node.path("dtype").asText(""));
        if (dtype == null) {
            throw new FormatException(file, Kind.UNKNOWN_DTYPE, "tensor '" + name + "' has unknown dtype " + node.path("dtype"));
        }
        JsonNode shapeNode = node.path("shape");
        if (!shapeNode.isArray()) {
            throw new FormatException(file, Kind.TENSOR_INVALID_INFO, "tensor '" + name + "' has no shape array");
        }
        long[] dims = new long[shapeNode.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shapeNode.get(i).asLong(-1);
            if (dims[i] < 0) {
                throw new FormatException(file, Kind.TENSOR_INVALID_INFO, "tensor '" + name + "' has a negative dimension");
            }
        }
        try {
            TensorInfo info = new TensorInfo(name, dtype, Shape.of(dims));
            info.byteSize();
            return info;
        } catch (ArithmeticException e) {
            throw new FormatException(file, Kind.VALIDATION_OVERFLOW, "tensor '" + name + "' size overflows");
        }
    }

    @Override
    public Path root() {
        return root;
    }

    @Override
    public List<TensorInfo> tensors() {
        List<TensorInfo> out = new ArrayList<>(entries.size());
        entries.values().forEach(e -> out.add(e.info()));
        return out;
    }

    @Override
    public TensorView view(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "'");
        }
        return new TensorView(e.info(), e.data());
    }

    @Override
    public Optional<ObjectNode> config() {
        return Optional.ofNullable(config);
    }

    @Override
    public void close() {
        arena.close();
    }
}

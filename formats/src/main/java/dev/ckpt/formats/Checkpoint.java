package dev.ckpt.formats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The read side of every operation: a checkpoint directory (config, tokenizer and other side files,
 * weights in one format, optionally sharded with an {@code *.index.json}) or a single tensor file.
 * {@link #open} validates every weight file's header and records {@link #problems()} that do not
 * stop reading (index naming a missing shard or tensor, duplicate tensors, shards not in the index,
 * unreadable config). Tensor bytes are mapped lazily by the OS; {@link #close()} unmaps them.
 * Views may be read from several threads; open and close from one.
 */
public final class Checkpoint implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A problem found while opening, with its kind. */
    public record Problem(Kind kind, String message) {
    }

    private final Path root;
    private final List<TensorFile> files;
    private final List<Path> sideFiles;
    private final List<Path> ignoredFiles;
    private final Optional<Path> indexFile;
    private final List<TensorInfo> tensors = new ArrayList<>();
    private final Map<String, TensorFile> owner = new HashMap<>();
    private final Map<String, TensorInfo> byName = new HashMap<>();
    private final List<Problem> problems = new ArrayList<>();
    private ObjectNode config;

    private Checkpoint(Path root, List<TensorFile> files, List<Path> sideFiles, List<Path> ignoredFiles, Optional<Path> indexFile) {
        this.root = root;
        this.files = files;
        this.sideFiles = sideFiles;
        this.ignoredFiles = ignoredFiles;
        this.indexFile = indexFile;
    }

    /**
     * Opens a checkpoint directory or a single tensor file.
     *
     * @throws NoSuchFileException when {@code dirOrFile} does not exist
     * @throws FormatException when a weight file is malformed or of an unsupported format
     */
    public static Checkpoint open(Path dirOrFile) throws IOException {
        Path root = dirOrFile.toAbsolutePath().normalize();
        if (!Files.exists(root)) {
            throw new NoSuchFileException(dirOrFile.toString());
        }
        if (!Files.isDirectory(root)) {
            TensorFile f = TensorFiles.open(root);
            Checkpoint c = new Checkpoint(root, List.of(f), List.of(), List.of(), Optional.empty());
            c.collectTensors();
            return c;
        }
        if (!Files.isReadable(root)) {
            throw new FormatException(root, Kind.UNREADABLE, "directory is not readable (check its permissions)");
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(root)) {
            entries = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
        Map<TensorFiles.Format, List<Path>> byFormat = new EnumMap<>(TensorFiles.Format.class);
        List<Path> sides = new ArrayList<>();
        List<Path> indexes = new ArrayList<>();
        for (Path p : entries) {
            String name = p.getFileName().toString();
            Optional<TensorFiles.Format> f = TensorFiles.formatOf(p);
            if (f.isPresent()) {
                byFormat.computeIfAbsent(f.get(), k -> new ArrayList<>()).add(p);
            } else if (name.endsWith(".index.json")) {
                indexes.add(p);
            } else {
                sides.add(p);
            }
        }
        TensorFiles.Format chosen = byFormat.keySet().stream().findFirst().orElse(TensorFiles.Format.SAFETENSORS);
        List<Path> weights = byFormat.getOrDefault(chosen, List.of());
        List<Path> ignored = new ArrayList<>();
        byFormat.forEach((f, ps) -> {
            if (f != chosen) {
                ignored.addAll(ps);
            }
        });
        String indexSuffix = chosen == TensorFiles.Format.SAFETENSORS ? ".safetensors.index.json" : ".bin.index.json";
        Optional<Path> index = indexes.stream().filter(p -> p.getFileName().toString().endsWith(indexSuffix)).findFirst();
        indexes.stream().filter(p -> index.isEmpty() || !p.equals(index.get())).forEach(ignored::add);
        List<TensorFile> opened = new ArrayList<>();
        try {
            for (Path w : weights) {
                opened.add(TensorFiles.open(w));
            }
        } catch (IOException | RuntimeException e) {
            opened.forEach(TensorFile::close);
            throw e;
        }
        Checkpoint c = new Checkpoint(root, List.copyOf(opened), List.copyOf(sides), List.copyOf(ignored), index);
        c.collectTensors();
        if (weights.isEmpty()) {
            c.problem(Kind.MISSING_SHARD, "no weight files (*.safetensors, *.bin or *.gguf) in " + root);
        }
        c.checkIndex();
        c.readConfig();
        return c;
    }

    private void collectTensors() {
        for (TensorFile f : files) {
            for (TensorInfo t : f.tensors()) {
                TensorFile first = owner.putIfAbsent(t.name(), f);
                if (first == null) {
                    tensors.add(t);
                    byName.put(t.name(), t);
                } else {
                    problem(Kind.DUPLICATE_TENSOR, "tensor '" + t.name() + "' appears in both "
                            + first.path().getFileName() + " and " + f.path().getFileName());
                }
            }
        }
    }

    private void checkIndex() {
        if (indexFile.isEmpty()) {
            if (files.size() > 1) {
                problem(Kind.INVALID_INDEX, files.size() + " weight files but no index (*.index.json) to say which tensor is where");
            }
            return;
        }
        Path index = indexFile.get();
        Map<String, String> weightMap;
        try {
            weightMap = readWeightMap(index);
        } catch (IOException e) {
            problem(Kind.INVALID_INDEX, e.getMessage());
            return;
        }
        Map<String, TensorFile> byFileName = new HashMap<>();
        files.forEach(f -> byFileName.put(f.path().getFileName().toString(), f));
        Set<String> reported = new HashSet<>();
        Set<String> referenced = new HashSet<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            String shard = e.getValue();
            referenced.add(shard);
            TensorFile f = byFileName.get(shard);
            if (f == null) {
                if (reported.add(shard)) {
                    problem(Kind.MISSING_SHARD, index.getFileName() + " names shard " + shard + " (tensor '" + e.getKey()
                            + "'), which is missing from the directory (incomplete download?)");
                }
            } else if (owner.get(e.getKey()) != f && f.tensors().stream().noneMatch(t -> t.name().equals(e.getKey()))) {
                problem(Kind.MISSING_TENSOR, index.getFileName() + " puts tensor '" + e.getKey() + "' in " + shard
                        + ", which does not contain it");
            }
        }
        for (TensorFile f : files) {
            String name = f.path().getFileName().toString();
            if (!referenced.contains(name)) {
                problem(Kind.INVALID_INDEX, "shard " + name + " is not in " + index.getFileName() + " (stray or renamed file?)");
                continue;
            }
            for (TensorInfo t : f.tensors()) {
                if (!name.equals(weightMap.get(t.name()))) {
                    problem(Kind.INVALID_INDEX, "tensor '" + t.name() + "' in " + name + " is "
                            + (weightMap.containsKey(t.name()) ? "mapped to " + weightMap.get(t.name()) : "missing from")
                            + " " + index.getFileName());
                }
            }
        }
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new FormatException(index, Kind.INVALID_INDEX, "not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new FormatException(index, Kind.INVALID_INDEX, "needs a \"weight_map\" object {tensor name: shard file}");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var it = map.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual()) {
                throw new FormatException(index, Kind.INVALID_INDEX, "weight_map value of '" + e.getKey() + "' must be a file name");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return out;
    }

    private void readConfig() {
        Path file = root.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            return;
        }
        try {
            config = json("config.json").orElse(null);
        } catch (IOException e) {
            problem(e instanceof FormatException fe ? fe.kind() : Kind.UNREADABLE, e.getMessage());
        }
    }

    private void problem(Kind kind, String message) {
        problems.add(new Problem(kind, message));
    }

    /** The directory, or the single file, that was opened (absolute). */
    public Path root() {
        return root;
    }

    /** True when {@link #root()} is a directory. */
    public boolean isDirectory() {
        return Files.isDirectory(root);
    }

    /** All tensors: shards in name order, each in file order; duplicates only once. */
    public List<TensorInfo> tensors() {
        return Collections.unmodifiableList(tensors);
    }

    /** The tensor called {@code name}, if this checkpoint has it. */
    public Optional<TensorInfo> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /**
     * The bytes of tensor {@code name}, valid until {@link #close()}.
     *
     * @throws IllegalArgumentException when there is no such tensor
     */
    public TensorView view(String name) throws IOException {
        TensorFile f = owner.get(name);
        if (f == null) {
            throw new IllegalArgumentException(root.getFileName() + " has no tensor '" + name + "'");
        }
        return f.view(name);
    }

    /** The weight file that holds tensor {@code name}. */
    public Optional<Path> weightFileOf(String name) {
        return Optional.ofNullable(owner.get(name)).map(TensorFile::path);
    }

    /** config.json as a Jackson tree, when present and valid. */
    public Optional<ObjectNode> config() {
        return Optional.ofNullable(config == null ? null : config.deepCopy());
    }

    /**
     * Reads a JSON side file of this directory (e.g. {@code adapter_config.json}).
     *
     * @return empty when the file does not exist
     * @throws FormatException when it is not a JSON object
     */
    public Optional<ObjectNode> json(String fileName) throws IOException {
        if (!isDirectory()) {
            return Optional.empty();
        }
        Path file = root.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n instanceof ObjectNode o) {
                return Optional.of(o);
            }
            throw new FormatException(file, Kind.INVALID_JSON, "must be a JSON object");
        } catch (JsonProcessingException e) {
            throw new FormatException(file, Kind.INVALID_JSON, "not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** Files that are not weights or weight indexes (config, tokenizer, generation config, README...). */
    public List<Path> sideFiles() {
        return sideFiles;
    }

    /** The weight files that were opened, in name order. */
    public List<Path> weightFiles() {
        return files.stream().map(TensorFile::path).toList();
    }

    /** Weight files of another format than the one read, and indexes that belong to none. */
    public List<Path> ignoredFiles() {
        return ignoredFiles;
    }

    /** The weight index ({@code *.safetensors.index.json}) that was read, if any. */
    public Optional<Path> indexFile() {
        return indexFile;
    }

    /** Sum of all tensors' byte sizes. */
    public long tensorBytes() {
        return tensors.stream().mapToLong(TensorInfo::byteSize).sum();
    }

    /** Where tensor {@code name}'s bytes lie in its weight file, when stored exactly as viewed (see {@link TensorFile#fileRange}). */
    public Optional<FileRange> fileRange(String name) {
        TensorFile f = owner.get(name);
        return f == null ? Optional.empty() : f.fileRange(name);
    }

    /** Tensor names that share storage within one weight file (tied weights); see {@link TensorFile#sharedStorages()}. */
    public List<List<String>> sharedStorages() {
        return files.stream().flatMap(f -> f.sharedStorages().stream()).toList();
    }

    /** Notes of the weight readers (e.g. "unwrapped the state dict under 'model'"), prefixed by file name. */
    public List<String> notes() {
        return files.stream().flatMap(f -> f.notes().stream().map(n -> f.path().getFileName() + ": " + n)).toList();
    }

    /** Human-readable problems found while opening; empty for a consistent checkpoint. */
    public List<String> problems() {
        return problems.stream().map(Problem::message).toList();
    }

    /** {@link #problems()} with their {@link Kind}s, for callers that need to tell them apart. */
    public List<Problem> problemDetails() {
        return List.copyOf(problems);
    }

    /** @throws FormatException for the first problem, if any (for operations that need a consistent input) */
    public void requireNoProblems() throws FormatException {
        if (!problems.isEmpty()) {
            Problem p = problems.getFirst();
            String more = problems.size() > 1 ? " (and " + (problems.size() - 1) + " more problems; run 'ckpt inspect')" : "";
            throw new FormatException(null, p.kind(), root.getFileName() + ": " + p.message() + more);
        }
    }

    @Override
    public void close() {
        for (TensorFile f : files) {
            f.close();
        }
    }
}

package dev.ckpt.formats;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.internal.AtomicFiles;
import dev.ckpt.formats.safetensors.SafetensorsLayout;
import dev.ckpt.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Executes an output plan into a Hugging Face style safetensors directory: shards of at most
 * {@link WriteOptions#maxShardBytes} ({@code model-0000k-of-0000n.safetensors} plus
 * {@code model.safetensors.index.json}, or a single {@code model.safetensors}), each shard's header
 * written first, tensors computed by their recipes straight into mapped file ranges, in parallel.
 *
 * <p>Everything goes into a hidden sibling temp directory that is fsynced and renamed into place
 * only when complete; on failure it is deleted and any previous output is left as it was. Memory:
 * the writer itself holds no tensor bytes; peak use is what the recipes hold, times the threads.
 */
public final class CheckpointWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CheckpointWriter() {
    }

    /**
     * Writes {@code tensors} (plan order decides shard membership) and {@code sideFiles} into {@code outDir}.
     *
     * @throws FileAlreadyExistsException when {@code outDir} exists and {@code options.force()} is false
     * @throws IOException when a recipe or the file system fails (the output is then not created)
     * @throws IllegalArgumentException on duplicate tensor or side file names
     */
    public static WriteReport write(Path outDir, List<PlannedTensor> tensors, List<SideFile> sideFiles,
                                    WriteOptions options, ProgressListener listener) throws IOException {
        long start = System.nanoTime();
        Path out = outDir.toAbsolutePath().normalize();
        if (Files.exists(out) && !options.force()) {
            throw new FileAlreadyExistsException(out.toString());
        }
        checkNames(tensors, sideFiles);
        Files.createDirectories(out.getParent());
        OutOfSpaceException.requireSpace(out.getParent(), tensors.stream().mapToLong(t -> t.info().byteSize()).sum());
        Path tmp = AtomicFiles.siblingTemp(out);
        Files.createDirectory(tmp);
        // Ctrl-C or kill during the write: remove the partial temp directory, nothing else.
        Thread cleanup = new Thread(() -> AtomicFiles.deleteQuietly(tmp), "ckpt-writer-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            List<Path> sides = writeSideFiles(tmp, sideFiles);
            List<String> shardNames = writeShards(tmp, tensors, options, listener);
            AtomicFiles.fsyncDirectory(tmp);
            moveIntoPlace(tmp, out);
            long total = tensors.stream().mapToLong(t -> t.info().byteSize()).sum();
            WriteReport report = new WriteReport(out, shardNames.stream().map(out::resolve).toList(),
                    sides.stream().map(p -> out.resolve(p.getFileName())).toList(), tensors.size(), total,
                    Duration.ofNanos(System.nanoTime() - start));
            listener.finished(report);
            return report;
        } catch (IOException | RuntimeException | Error e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down: the hook runs (or ran) and removes the temp directory.
            }
        }
    }

    private static void checkNames(List<PlannedTensor> tensors, List<SideFile> sideFiles) {
        Set<String> seen = new HashSet<>();
        for (PlannedTensor t : tensors) {
            if (!seen.add(t.info().name())) {
                throw new IllegalArgumentException("duplicate tensor name in plan: '" + t.info().name() + "'");
            }
        }
        Set<String> files = new HashSet<>();
        for (SideFile s : sideFiles) {
            if (!files.add(s.name()) || s.name().endsWith(".safetensors") || s.name().equals(ShardPlan.INDEX_NAME)) {
                throw new IllegalArgumentException("side file name clashes with another file: '" + s.name() + "'");
            }
        }
    }

    private static List<Path> writeSideFiles(Path dir, List<SideFile> sideFiles) throws IOException {
        List<Path> written = new ArrayList<>();
        for (SideFile s : sideFiles) {
            Path target = dir.resolve(s.name());
            switch (s) {
                case SideFile.Copy c -> Files.copy(c.source(), target, StandardCopyOption.COPY_ATTRIBUTES);
                case SideFile.Bytes b -> Files.write(target, b.content());
            }
            AtomicFiles.fsync(target);
            written.add(target);
        }
        return written;
    }

    private static List<String> writeShards(Path dir, List<PlannedTensor> tensors, WriteOptions options,
                                            ProgressListener listener) throws IOException {
        Map<String, TensorRecipe> recipes = new HashMap<>();
        for (PlannedTensor t : tensors) {
            recipes.put(t.info().name(), t.recipe());
        }
        List<List<TensorInfo>> shards = ShardPlan.greedy(tensors.stream().map(PlannedTensor::info).toList(),
                options.maxShardBytes());
        List<String> names = new ArrayList<>();
        List<SafetensorsWriter> writers = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        Progress progress = new Progress(listener);
        try {
            for (int i = 0; i < shards.size(); i++) {
                String name = ShardPlan.shardName(i, shards.size());
                names.add(name);
                SafetensorsLayout layout = SafetensorsLayout.of(shards.get(i), Map.of("format", "pt"));
                writers.add(SafetensorsWriter.create(dir.resolve(name), layout));
                for (TensorInfo t : shards.get(i)) {
                    weightMap.put(t.name(), name);
                    total += t.byteSize();
                }
            }
            listener.started(tensors.size(), total);
            runAll(writers, recipes, options.effectiveThreads(), progress);
            for (SafetensorsWriter w : writers) {
                w.finish();
            }
        } finally {
            for (SafetensorsWriter w : writers) {
                w.close();
            }
        }
        if (shards.size() > 1) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode map = index.putObject("weight_map");
            weightMap.forEach(map::put);
            Path indexFile = dir.resolve(ShardPlan.INDEX_NAME);
            Files.write(indexFile, (JSON.writeValueAsString(index) + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            AtomicFiles.fsync(indexFile);
        }
        return names;
    }

    private static void runAll(List<SafetensorsWriter> writers, Map<String, TensorRecipe> recipes, int threads,
                               Progress progress) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "ckpt-writer");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (SafetensorsWriter w : writers) {
                for (SafetensorsLayout.Placed p : w.layout().placed()) {
                    futures.add(pool.submit(() -> {
                        w.fill(p, recipes.get(p.info().name()));
                        progress.done(p.info());
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                await(f);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void await(Future<?> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while writing");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IOException(c);
        }
    }

    private static void moveIntoPlace(Path tmp, Path out) throws IOException {
        Path old = null;
        if (Files.exists(out)) {
            old = AtomicFiles.siblingTemp(out);
            Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) {
                Files.move(old, out, StandardCopyOption.ATOMIC_MOVE);
            }
            throw e;
        }
        AtomicFiles.fsyncDirectory(out.getParent());
        if (old != null) {
            AtomicFiles.deleteTree(old);
        }
    }

    /** Serializes listener calls and counts progress. */
    private static final class Progress {
        private final ProgressListener listener;
        private int tensors;
        private long bytes;

        Progress(ProgressListener listener) {
            this.listener = listener;
        }

        synchronized void done(TensorInfo t) {
            tensors++;
            bytes += t.byteSize();
            listener.tensorWritten(t, tensors, bytes);
        }
    }
}

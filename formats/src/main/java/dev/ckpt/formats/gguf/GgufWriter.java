package dev.ckpt.formats.gguf;

import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.WriteReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.time.Duration;

/**
 * Writes a GGUF v3 file in three phases: the header (metadata in the caller's order, then tensor
 * infos with offsets packed and aligned exactly as llama.cpp requires) is serialized in memory; the
 * data section is sized up front and mapped; then every tensor chunk is filled in place by worker
 * threads. The output is a sibling temp file, forced to disk and atomically renamed: a failure leaves
 * any previous file untouched. Heap use is the header plus what the chunk fillers allocate; the pages of
 * each finished tensor are released from the resident set (see {@link MappedMemory}).
 */
public final class GgufWriter {
    private GgufWriter() {
    }

    /**
     * Fills one tensor's bytes, in {@link #chunkCount()} independent pieces that may run on different
     * threads (e.g. row ranges). Each call writes only its own part of {@code tensorBytes}.
     */
    public interface TensorSource {
        int chunkCount();

        void fill(int chunk, MemorySegment tensorBytes) throws IOException;

        /** A single-chunk source from a recipe that fills the whole tensor. */
        static TensorSource of(TensorRecipe recipe) {
            return new TensorSource() {
                public int chunkCount() {
                    return 1;
                }

                public void fill(int chunk, MemorySegment tensorBytes) throws IOException {
                    recipe.fill(tensorBytes);
                }
            };
        }
    }

    /** One output tensor: name, ggml type, dims innermost-first, and its bytes' source. */
    public record Tensor(String name, GgmlType type, long[] ne, TensorSource source) {
        public Tensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(source, "source");
            ne = ne.clone();
        }

        public long byteSize() {
            return type.byteSizeFor(ne);
        }
    }

    /** @param alignment data alignment (a power of two; written as general.alignment unless 32) */
    public record Options(int alignment, boolean force, int threads) {
        public Options {
            if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
                throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
            }
            threads = Math.max(1, threads);
        }

        public static Options defaults() {
            return new Options(GgufFile.DEFAULT_ALIGNMENT, false, Runtime.getRuntime().availableProcessors());
        }
    }

    /**
     * Writes {@code out}. Metadata must not contain {@code general.alignment} unless it equals
     * {@code options.alignment()}; it is added when the alignment is not the default.
     *
     * @return bytes written
     * @throws FileAlreadyExistsException when {@code out} exists and {@code options.force()} is false
     * @throws IllegalArgumentException on duplicate or over-long names, more than 4 dims or partial blocks
     */
    public static long write(Path out, Map<String, GgufValue> metadata, List<Tensor> tensors, Options options)
            throws IOException {
        return write(out, metadata, tensors, options, ProgressListener.NONE);
    }

    /**
     * As {@link #write(Path, Map, List, Options)}, reporting to {@code listener}: {@code started}, then
     * {@code tensorWritten} as tensors complete (in completion order), then {@code finished}.
     */
    public static long write(Path out, Map<String, GgufValue> metadata, List<Tensor> tensors, Options options,
                             ProgressListener listener) throws IOException {
        long t0 = System.nanoTime();
        if (Files.exists(out) && !options.force()) {
            throw new FileAlreadyExistsException(out.toString());
        }
        validate(tensors);
        int alignment = options.alignment();
        byte[] header = header(metadata, tensors, alignment);
        long dataStart = GgufHeaderParser.alignUp(header.length, alignment);
        long[] offsets = new long[tensors.size()];
        long cursor = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = cursor;
            cursor = GgufHeaderParser.alignUp(Math.addExact(cursor, tensors.get(i).byteSize()), alignment);
        }
        long total = Math.addExact(tensors.isEmpty() ? header.length : dataStart, cursor);
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // A sibling created like any new file (the umask decides its mode): Files.createTempFile would make every
        // GGUF 0600, unreadable to the other accounts that serve or share the model.
        Path tmp = dev.ckpt.formats.internal.AtomicFiles.siblingTemp(out);
        // Ctrl-C or kill during the write: remove the partial temp file, nothing else.
        Thread cleanup = new Thread(() -> {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // best effort at shutdown
            }
        }, "ckpt-gguf-writer-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        boolean ok = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
                 Arena arena = Arena.ofShared()) {
                if (total > 0) {
                    // the mapping is sparse until filled: a disk that cannot back it faults inside a mapped write
                    dev.ckpt.formats.OutOfSpaceException.requireSpace(dir, total);
                    ch.write(java.nio.ByteBuffer.wrap(new byte[1]), total - 1);
                    MemorySegment file = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                    try {
                        MemorySegment.copy(header, 0, file, ValueLayout.JAVA_BYTE, 0, header.length);
                        listener.started(tensors.size(), tensors.stream().mapToLong(Tensor::byteSize).sum());
                        fillAll(file.asSlice(dataStart > total ? total : dataStart), tensors, offsets, options.threads(),
                                listener);
                        file.force();
                    } catch (InternalError e) {
                        dev.ckpt.formats.OutOfSpaceException.rethrowIfMappedFault(e, out);
                        throw e;
                    }
                }
                ch.force(true);
            }
            if (options.force()) {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            }
            dev.ckpt.formats.internal.AtomicFiles.fsyncDirectory(dir);
            ok = true;
            listener.finished(new WriteReport(out, List.of(out), List.of(), tensors.size(),
                    tensors.stream().mapToLong(Tensor::byteSize).sum(), Duration.ofNanos(System.nanoTime() - t0)));
            return total;
        } finally {
            if (!ok) {
                Files.deleteIfExists(tmp);
            }
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs (or ran) and removes the temp file
            }
        }
    }

    private static void fillAll(MemorySegment data, List<Tensor> tensors, long[] offsets, int threads,
                                ProgressListener listener) throws IOException {
        record Job(Tensor t, int index, MemorySegment target, int chunk) {
        }
        List<Job> jobs = new ArrayList<>();
        AtomicInteger[] remaining = new AtomicInteger[tensors.size()];
        MemorySegment[] targets = new MemorySegment[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            MemorySegment target = data.asSlice(offsets[i], t.byteSize());
            targets[i] = target;
            int chunks = t.source().chunkCount();
            remaining[i] = new AtomicInteger(chunks);
            if (chunks == 0) {
                throw new IllegalArgumentException(t.name() + ": a tensor source needs at least one chunk");
            }
            for (int c = 0; c < chunks; c++) {
                jobs.add(new Job(t, i, target, c));
            }
        }
        long[] done = new long[2];
        java.util.function.IntConsumer chunkDone = i -> {
            if (remaining[i].decrementAndGet() == 0) {
                // The whole output is one READ_WRITE mapping: drop a finished tensor's pages from the resident
                // set (they stay dirty in the page cache until written back), so resident memory does not
                // grow with the file, whether or not the source released its own chunks.
                MappedMemory.release(targets[i]);
                Tensor t = tensors.get(i);
                synchronized (done) {
                    done[0]++;
                    done[1] += t.byteSize();
                    listener.tensorWritten(GgufFile.tensorInfo(new GgufTensorInfo(t.name(), t.type(), t.ne(), offsets[i])),
                            (int) done[0], done[1]);
                }
            }
        };
        if (threads == 1) {
            for (Job j : jobs) {
                j.t().source().fill(j.chunk(), j.target());
                chunkDone.accept(j.index());
            }
            return;
        }
        try (ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread th = new Thread(r, "gguf-writer");
            th.setDaemon(true);
            return th;
        })) {
            List<Future<?>> futures = new ArrayList<>();
            for (Job j : jobs) {
                futures.add(pool.submit(() -> {
                    try {
                        j.t().source().fill(j.chunk(), j.target());
                        chunkDone.accept(j.index());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    futures.forEach(x -> x.cancel(true));
                    Throwable c = e.getCause();
                    if (c instanceof UncheckedIOException u) {
                        throw u.getCause();
                    }
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IOException(c);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while writing GGUF", e);
                }
            }
        }
    }

    private static void validate(List<Tensor> tensors) {
        Set<String> names = new HashSet<>();
        for (Tensor t : tensors) {
            if (!names.add(t.name())) {
                throw new IllegalArgumentException("duplicate tensor " + t.name());
            }
            if (t.name().getBytes(StandardCharsets.UTF_8).length > GgufHeaderParser.MAX_NAME_BYTES) {
                throw new IllegalArgumentException("tensor name longer than 63 bytes: " + t.name());
            }
            if (t.ne().length > GgufHeaderParser.MAX_DIMS) {
                throw new IllegalArgumentException(t.name() + " has more than 4 dims");
            }
            t.byteSize();
        }
    }

    /** The serialized header (magic through tensor infos, unpadded). */
    static byte[] header(Map<String, GgufValue> metadata, List<Tensor> tensors, int alignment) {
        LeBytes b = new LeBytes();
        b.u32(0x46554747);
        b.u32(3);
        boolean addAlignment = alignment != GgufFile.DEFAULT_ALIGNMENT && !metadata.containsKey("general.alignment");
        GgufValue given = metadata.get("general.alignment");
        if (given != null && !(given instanceof GgufValue.UInt32 u && u.value() == alignment)) {
            throw new IllegalArgumentException("general.alignment " + given + " differs from the writer's " + alignment);
        }
        b.u64(tensors.size());
        b.u64(metadata.size() + (addAlignment ? 1 : 0));
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            b.string(e.getKey());
            b.u32(e.getValue().type().id());
            b.value(e.getValue());
        }
        if (addAlignment) {
            b.string("general.alignment");
            b.u32(GgufValueType.UINT32.id());
            b.u32(alignment);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            b.string(t.name());
            long[] ne = t.ne();
            b.u32(ne.length);
            for (long d : ne) {
                b.u64(d);
            }
            b.u32(t.type().id());
            b.u64(offset);
            offset = GgufHeaderParser.alignUp(offset + t.byteSize(), alignment);
        }
        return b.toByteArray();
    }

    /** Little-endian serialization of header fields. */
    private static final class LeBytes extends ByteArrayOutputStream {
        LeBytes() {
            super(1 << 16);
        }

        void u8(int v) {
            write(v);
        }

        void u16(int v) {
            write(v);
            write(v >>> 8);
        }

        void u32(long v) {
            u16((int) v);
            u16((int) (v >>> 16));
        }

        void u64(long v) {
            u32(v);
            u32(v >>> 32);
        }

        void string(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            u64(bytes.length);
            write(bytes, 0, bytes.length);
        }

        void value(GgufValue v) {
            switch (v) {
                case GgufValue.UInt8 x -> u8(x.value());
                case GgufValue.Int8 x -> u8(x.value());
                case GgufValue.UInt16 x -> u16(x.value());
                case GgufValue.Int16 x -> u16(x.value());
                case GgufValue.UInt32 x -> u32(x.value());
                case GgufValue.Int32 x -> u32(x.value());
                case GgufValue.Float32 x -> u32(Float.floatToRawIntBits(x.value()));
                case GgufValue.Bool x -> u8(x.value() ? 1 : 0);
                case GgufValue.Str x -> string(x.value());
                case GgufValue.UInt64 x -> u64(x.value());
                case GgufValue.Int64 x -> u64(x.value());
                case GgufValue.Float64 x -> u64(Double.doubleToRawLongBits(x.value()));
                case GgufValue.Array x -> {
                    u32(x.elementType().id());
                    u64(x.items().size());
                    for (GgufValue item : x.items()) {
                        value(item);
                    }
                }
            }
        }
    }
}

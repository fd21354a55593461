package dev.ckpt.formats.safetensors;

import dev.ckpt.formats.FileCopyRecipe;
import dev.ckpt.formats.FileRange;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.RangeRecipe;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.internal.AtomicFiles;
import dev.ckpt.formats.internal.RangeStreamer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes one safetensors file in two phases: {@link #create} writes the header (from a
 * {@link SafetensorsLayout}) and sizes the file; {@link #fill} then computes each tensor straight
 * into a read-write mapping of its byte range ({@link RangeRecipe}s instead stream through small
 * buffers with positional writes, see {@link RangeStreamer}), so no tensor is ever staged on the heap.
 * {@link #fill} may run concurrently for different tensors; {@link #finish} fsyncs.
 */
public final class SafetensorsWriter implements AutoCloseable {
    /**
     * Whether {@link RangeRecipe}s may be written with direct I/O ({@link RangeStreamer}); on unless
     * the system property {@code ckpt.directIo} is {@code false} (for benchmarks and file systems
     * that accept {@code O_DIRECT} but serve it badly).
     */
    static final boolean DIRECT_IO = !"false".equals(System.getProperty("ckpt.directIo"));

    /** Bytes per in-kernel copy call (progress and early flushes happen between calls). */
    private static final long TRANSFER_CHUNK_BYTES = 64L << 20;

    /** Bytes streamed before an early background flush is started (spreads disk writes over the run). */
    static final long FLUSH_BYTES = 64L << 20;

    /** One daemon thread that starts writeback early, so the final fsync has little left to do. */
    private static final java.util.concurrent.ExecutorService FLUSHER = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ckpt-flusher");
        t.setDaemon(true);
        return t;
    });

    private final java.util.concurrent.atomic.AtomicLong unflushed = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicBoolean flushQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final Path file;
    private final SafetensorsLayout layout;
    private final FileChannel channel;
    private final RangeStreamer streamer;

    private SafetensorsWriter(Path file, SafetensorsLayout layout, FileChannel channel) {
        this.file = file;
        this.layout = layout;
        this.channel = channel;
        this.streamer = RangeStreamer.open(file, channel, DIRECT_IO);
    }

    /** Creates {@code file} (which must not exist), writes its header and sets its final length. */
    public static SafetensorsWriter create(Path file, SafetensorsLayout layout) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer prefix = ByteBuffer.wrap(layout.prefix());
            long pos = 0;
            while (prefix.hasRemaining()) {
                pos += ch.write(prefix, pos);
            }
            if (layout.dataByteSize() > 0) {
                // Extend to the final size so concurrent mappings never grow the file.
                ch.write(ByteBuffer.allocate(1), layout.fileByteSize() - 1);
            }
            return new SafetensorsWriter(file, layout, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    public SafetensorsLayout layout() {
        return layout;
    }

    /**
     * Runs {@code recipe} on a read-write mapping of exactly the tensor's bytes, then unmaps it.
     * Thread-safe for distinct tensors.
     */
    public void fill(SafetensorsLayout.Placed tensor, TensorRecipe recipe) throws IOException {
        if (tensor.byteSize() == 0) {
            recipe.fill(MemorySegment.ofArray(new byte[0]));
            return;
        }
        if (recipe instanceof FileCopyRecipe copy && copy.source().byteSize() == tensor.byteSize()) {
            transfer(tensor, copy.source());
            return;
        }
        if (recipe instanceof RangeRecipe ranged) {
            stream(tensor, ranged);
            return;
        }
        try (Arena arena = Arena.ofShared()) {
            MemorySegment target = channel.map(FileChannel.MapMode.READ_WRITE,
                    layout.prefix().length + tensor.begin(), tensor.byteSize(), arena);
            recipe.fill(target);
        } catch (InternalError e) {
            dev.ckpt.formats.OutOfSpaceException.rethrowIfMappedFault(e, file);
            throw e;
        }
    }

    /** Streams a range-capable recipe through small buffers ({@link RangeStreamer}: direct I/O for the aligned middle). */
    private void stream(SafetensorsLayout.Placed tensor, RangeRecipe recipe) throws IOException {
        streamer.stream(layout.prefix().length + tensor.begin(), tensor.byteSize(), recipe, this::wroteBuffered);
    }

    private void wroteBuffered(long bytes) {
        if (unflushed.addAndGet(bytes) >= FLUSH_BYTES && flushQueued.compareAndSet(false, true)) {
            FLUSHER.execute(this::flushEarly);
        }
    }

    /**
     * Copies a tensor that is exactly a range of an input file without bringing it to user space
     * ({@code FileChannel.transferTo}, served by {@code copy_file_range} on Linux), through output
     * and input channels of its own so concurrent tensors never share a file position.
     */
    private void transfer(SafetensorsLayout.Placed tensor, FileRange source) throws IOException {
        long size = tensor.byteSize();
        try (FileChannel in = FileChannel.open(source.file(), StandardOpenOption.READ);
             FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE)) {
            out.position(layout.prefix().length + tensor.begin());
            for (long done = 0; done < size; ) {
                long n = in.transferTo(source.byteOffset() + done, Math.min(size - done, TRANSFER_CHUNK_BYTES), out);
                if (n <= 0) {
                    throw new java.io.EOFException(source.file() + " ended before byte " + (source.byteOffset() + size)
                            + " while copying tensor '" + tensor.info().name() + "' (changed while being read?)");
                }
                done += n;
                wroteBuffered(n);
            }
        }
    }

    private void flushEarly() {
        unflushed.set(0);
        flushQueued.set(false);
        try {
            channel.force(false);
        } catch (IOException e) {
            // Only a head start: finish() fsyncs again and reports any real error.
        }
    }

    /** Flushes the file's data to the device (fsync). */
    public void finish() throws IOException {
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        try {
            streamer.close();
        } finally {
            channel.close();
        }
    }

    /**
     * Writes a whole safetensors file sequentially: into a sibling temp file, fsynced, then renamed
     * over {@code file} (never truncating a file that may be mapped elsewhere).
     */
    public static void write(Path file, List<PlannedTensor> tensors, Map<String, String> metadata) throws IOException {
        SafetensorsLayout layout = SafetensorsLayout.of(tensors.stream().map(PlannedTensor::info).toList(), metadata);
        Map<String, TensorRecipe> recipes = new HashMap<>();
        for (PlannedTensor t : tensors) {
            recipes.put(t.info().name(), t.recipe());
        }
        Path tmp = AtomicFiles.siblingTemp(file);
        try {
            try (SafetensorsWriter w = create(tmp, layout)) {
                for (SafetensorsLayout.Placed p : layout.placed()) {
                    w.fill(p, recipes.get(p.info().name()));
                }
                w.finish();
            }
            AtomicFiles.moveReplacing(tmp, file);
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteQuietly(tmp);
            throw e;
        }
    }
}

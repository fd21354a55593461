package dev.ckpt.formats;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads byte ranges of a checkpoint's tensors into caller buffers for streaming operations.
 *
 * <p>Why not read through the mapped {@link TensorView}: every mapped page read costs a page fault
 * and then a {@link MappedMemory#release} to keep resident memory flat, and Linux maps large folios
 * (up to 2 MiB), so small released ranges leave their neighbours resident. A positional
 * {@code pread} into a small buffer that stays in the CPU cache measured about half the CPU time per
 * byte of the map-copy-release path on a 1 GB shard (docs/benchmarks.md, convert section). Tensors
 * that are not a plain range of a file (a strided {@code .bin} view) fall back to copying from their
 * view and releasing it.
 *
 * <p>Thread-safe: one read-only channel per weight file, shared (positional reads do not move the
 * channel's position). Close it before the {@link Checkpoint}.
 */
public final class TensorRangeReader implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final Map<Path, FileChannel> channels = new ConcurrentHashMap<>();

    public TensorRangeReader(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    /**
     * Fills {@code target} with tensor {@code name}'s bytes {@code [byteOffset, byteOffset + target.byteSize())}.
     *
     * @throws IllegalArgumentException when the tensor is unknown or the range lies outside it
     * @throws EOFException when the file is shorter than its header promised (changed while being read)
     */
    public void read(String name, long byteOffset, MemorySegment target) throws IOException {
        TensorInfo info = checkpoint.tensor(name)
                .orElseThrow(() -> new IllegalArgumentException(checkpoint.root().getFileName() + " has no tensor '" + name + "'"));
        long size = target.byteSize();
        if (byteOffset < 0 || size > info.byteSize() - byteOffset) {
            throw new IllegalArgumentException("range [" + byteOffset + ", +" + size + ") outside tensor '" + name
                    + "' of " + info.byteSize() + " bytes");
        }
        var range = checkpoint.fileRange(name);
        if (range.isEmpty()) {
            MemorySegment src = checkpoint.view(name).data().asSlice(byteOffset, size);
            MemorySegment.copy(src, 0, target, 0, size);
            MappedMemory.release(src);
            return;
        }
        FileChannel channel = channel(range.get().file());
        ByteBuffer buffer = target.asByteBuffer();
        long position = range.get().byteOffset() + byteOffset;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new EOFException(range.get().file() + " ended at byte " + position + " while reading tensor '" + name
                        + "' (the header promised more; was the file changed while being read?)");
            }
            position += n;
        }
    }

    private FileChannel channel(Path file) throws IOException {
        FileChannel existing = channels.get(file);
        if (existing != null) {
            return existing;
        }
        FileChannel opened = FileChannel.open(file, StandardOpenOption.READ);
        FileChannel raced = channels.putIfAbsent(file, opened);
        if (raced != null) {
            opened.close();
            return raced;
        }
        return opened;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (FileChannel c : channels.values()) {
            try {
                c.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        channels.clear();
        if (first != null) {
            throw first;
        }
    }
}

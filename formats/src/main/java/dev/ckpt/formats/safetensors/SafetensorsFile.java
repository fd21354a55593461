package dev.ckpt.formats.safetensors;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One opened {@code .safetensors} file. {@link #open} validates the whole header
 * ({@link SafetensorsHeader}) before mapping the file read-only into a {@link MemorySegment}
 * owned by a shared {@link Arena}; views are zero-copy slices, valid until {@link #close()}.
 * Files and tensors larger than 2 GiB are fine. Views may be read from any thread.
 */
public final class SafetensorsFile implements TensorFile {
    private final Path path;
    private final SafetensorsHeader header;
    private final Arena arena;
    private final MemorySegment mapped;
    private final List<TensorInfo> tensors;
    private final Map<String, SafetensorsHeader.Entry> byName = new HashMap<>();

    private SafetensorsFile(Path path, SafetensorsHeader header, Arena arena, MemorySegment mapped) {
        this.path = path;
        this.header = header;
        this.arena = arena;
        this.mapped = mapped;
        this.tensors = header.entries().stream().map(SafetensorsHeader.Entry::info).toList();
        for (SafetensorsHeader.Entry e : header.entries()) {
            byName.put(e.info().name(), e);
        }
    }

    /**
     * Opens and validates {@code path}.
     *
     * @throws FormatException when the file breaks the safetensors spec (its {@link FormatException#kind()} says how)
     * @throws IOException when it cannot be read
     */
    public static SafetensorsFile open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new FormatException(path, Kind.UNREADABLE, "is a directory, expected a .safetensors file");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            long n = SafetensorsHeader.checkLength(path, size, size < 8 ? 0 : readPrefix(ch));
            byte[] headerBytes = new byte[(int) n];
            readFully(ch, ByteBuffer.wrap(headerBytes), 8);
            SafetensorsHeader header = SafetensorsHeader.parse(path, headerBytes, size);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(path, header, arena, mapped);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    private static long readPrefix(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, 0);
        return b.getLong(0);
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long pos = position;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw new EOFException("unexpected end of file at byte " + pos);
            }
            pos += r;
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The validated header: N, byte ranges and {@code __metadata__}. */
    public SafetensorsHeader header() {
        return header;
    }

    /** The {@code __metadata__} strings (often {@code {"format": "pt"}}). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    @Override
    public TensorView view(String name) {
        SafetensorsHeader.Entry e = byName.get(name);
        if (e == null) {
            throw new IllegalArgumentException(path.getFileName() + " has no tensor '" + name + "'");
        }
        return new TensorView(e.info(), mapped.asSlice(header.dataStart() + e.begin(), e.end() - e.begin()));
    }

    /** Every safetensors tensor is stored contiguous and little-endian: its byte range of this file. */
    @Override
    public java.util.Optional<dev.ckpt.formats.FileRange> fileRange(String name) {
        SafetensorsHeader.Entry e = byName.get(name);
        return e == null ? java.util.Optional.empty() : java.util.Optional.of(
                new dev.ckpt.formats.FileRange(path, header.dataStart() + e.begin(), e.end() - e.begin()));
    }

    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile(" + path + ", " + tensors.size() + " tensors)";
    }
}

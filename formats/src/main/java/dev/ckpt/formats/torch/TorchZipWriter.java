package dev.ckpt.formats.torch;

import dev.ckpt.formats.TensorRecipe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Writes a zip archive laid out like PyTorch's {@code PyTorchStreamWriter} (miniz, reference C1):
 * every entry stored, general-purpose flags 0x0808 (data descriptor + UTF-8) so local headers carry
 * zero CRC and sizes, a {@code "FB"} extra field of {@code 'Z'} padding so each entry's data starts
 * at a multiple of 64, a data descriptor after each entry, then the central directory, the zip64
 * end record and locator (always, as miniz writes them for torch), and zip64 extra fields when an
 * offset or size passes 4 GiB (or when forced, for tests). Verified byte for byte against a file
 * written by torch 2.13 (see the golden fixtures under {@code src/test/resources/torch}). Entry bytes are written
 * straight into a mapping of the output file, so memory stays bounded by the page cache.
 */
final class TorchZipWriter implements AutoCloseable {
    static final int ALIGNMENT = 64;
    private static final long U32_MAX = 0xFFFF_FFFFL;

    private record Written(String name, long localOffset, long size, int crc, boolean zip64) {
    }

    private final FileChannel channel;
    private final boolean forceZip64;
    private final List<Written> written = new ArrayList<>();
    private long cursor;

    TorchZipWriter(Path file, boolean forceZip64) throws IOException {
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.READ);
        this.forceZip64 = forceZip64;
    }

    void add(String name, byte[] content) throws IOException {
        add(name, content.length, target -> MemorySegment.copy(MemorySegment.ofArray(content), 0, target, 0, content.length));
    }

    /** Adds a stored entry of {@code size} bytes, filled in place by {@code fill}. */
    void add(String name, long size, TensorRecipe fill) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        long local = cursor;
        boolean zip64 = forceZip64 || size >= U32_MAX || local >= U32_MAX;
        boolean localZip64 = size >= U32_MAX || local >= U32_MAX;
        // getPadding(): data must start at a multiple of 64 after the header, name, zip64 extra and "FB" field.
        long start = local + 30 + nameBytes.length + 4;
        int zip64Extra = 0;
        if (localZip64) {
            zip64Extra = 4 + (size >= U32_MAX ? 16 : 0) + (local >= U32_MAX ? 8 : 0);
            start += zip64Extra;
        }
        int padding = (int) ((ALIGNMENT - start % ALIGNMENT) % ALIGNMENT);
        ByteBuffer h = le(30 + nameBytes.length + zip64Extra + 4 + padding);
        // as miniz writes for torch: version needed 0, flags 0x0808, stored, DOS time and date 0
        h.putInt(0x04034b50).putShort((short) 0).putShort((short) 0x0808).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0).putInt(0).putInt(0).putInt(0)
                .putShort((short) nameBytes.length).putShort((short) (zip64Extra + 4 + padding)).put(nameBytes);
        if (localZip64) {
            h.putShort((short) 1).putShort((short) (zip64Extra - 4));
            if (size >= U32_MAX) {
                h.putLong(0).putLong(0);
            }
            if (local >= U32_MAX) {
                h.putLong(local);
            }
        }
        h.put((byte) 'F').put((byte) 'B').putShort((short) padding);
        for (int i = 0; i < padding; i++) {
            h.put((byte) 'Z');
        }
        write(h);
        CRC32 crc = new CRC32();
        if (size > 0) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment target = channel.map(FileChannel.MapMode.READ_WRITE, cursor, size, arena);
                fill.fill(target);
                crc.update(target.asByteBuffer());
            }
            cursor += size;
        }
        ByteBuffer d = le(localZip64 ? 24 : 16);
        d.putInt(0x08074b50).putInt((int) crc.getValue());
        if (localZip64) {
            d.putLong(size).putLong(size);
        } else {
            d.putInt((int) size).putInt((int) size);
        }
        write(d);
        written.add(new Written(name, local, size, (int) crc.getValue(), zip64));
    }

    /** Writes the central directory and end records; the archive is complete afterwards. */
    void finish() throws IOException {
        long cdOffset = cursor;
        for (Written w : written) {
            byte[] nameBytes = w.name().getBytes(StandardCharsets.UTF_8);
            int extra = w.zip64() ? 4 + 24 : 0;
            ByteBuffer c = le(46 + nameBytes.length + extra);
            c.putInt(0x02014b50).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0x0808).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putInt(w.crc()).putInt(sat(w.size(), w.zip64())).putInt(sat(w.size(), w.zip64()))
                    .putShort((short) nameBytes.length).putShort((short) extra).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(sat(w.localOffset(), w.zip64()))
                    .put(nameBytes);
            if (w.zip64()) {
                c.putShort((short) 1).putShort((short) 24).putLong(w.size()).putLong(w.size()).putLong(w.localOffset());
            }
            write(c);
        }
        long cdSize = cursor - cdOffset;
        // miniz in zip64 mode (MZ_ZIP_FLAG_WRITE_ZIP64, as torch opens it) always ends with the zip64
        // end record and locator; the classic record keeps real values unless they overflow.
        long z64 = cursor;
        ByteBuffer z = le(56 + 20);
        z.putInt(0x06064b50).putLong(44).putShort((short) 0x031e).putShort((short) 45).putInt(0).putInt(0)
                .putLong(written.size()).putLong(written.size()).putLong(cdSize).putLong(cdOffset);
        z.putInt(0x07064b50).putInt(0).putLong(z64).putInt(1);
        write(z);
        boolean zip64 = forceZip64 || cdOffset >= U32_MAX || cdSize >= U32_MAX || written.size() >= 0xFFFF;
        ByteBuffer e = le(22);
        short count = (short) (zip64 ? 0xFFFF : written.size());
        e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort(count).putShort(count)
                .putInt(sat(cdSize, zip64)).putInt(sat(cdOffset, zip64)).putShort((short) 0);
        write(e);
    }

    private static int sat(long value, boolean zip64) {
        return zip64 ? (int) U32_MAX : (int) value;
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void write(ByteBuffer b) throws IOException {
        b.flip();
        while (b.hasRemaining()) {
            cursor += channel.write(b, cursor);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}

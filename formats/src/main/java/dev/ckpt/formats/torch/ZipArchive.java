package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The central directory of a zip archive held in a memory-mapped segment, as written by the
 * miniz writer behind {@code torch.save}: entries stored, data descriptors, zip64 records for
 * archives or entries past 4 GiB. Only the central directory and each local header's name and
 * extra lengths are trusted; the sizes in local headers are ignored (they are zero when a data
 * descriptor follows). Every offset and size is checked against the segment before use.
 * Immutable after {@link #read}; entry slices stay valid while the segment's arena is open.
 */
final class ZipArchive {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final int EOCD_SIGNATURE = 0x06054b50;
    private static final int EOCD_SIZE = 22;
    private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
    private static final int ZIP64_LOCATOR_SIZE = 20;
    private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
    private static final int ZIP64_EOCD_SIZE = 56;
    private static final int CENTRAL_SIGNATURE = 0x02014b50;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIGNATURE = 0x04034b50;
    private static final int LOCAL_SIZE = 30;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final long U32_MAX = 0xFFFF_FFFFL;
    private static final int U16_MAX = 0xFFFF;
    /** No torch checkpoint has more records than this; a larger count is hostile. */
    static final int MAX_ENTRIES = 1 << 20;

    /** Compression method 0: the entry's bytes are stored as is. */
    static final int METHOD_STORED = 0;

    /**
     * One entry of the central directory.
     *
     * @param dataOffset byte offset of the entry's data in the archive (after its local header)
     * @param compressedSize bytes the entry occupies in the archive
     * @param size bytes of the entry once uncompressed (equal to compressedSize when stored)
     */
    record Entry(String name, int method, long dataOffset, long compressedSize, long size) {
        boolean stored() {
            return method == METHOD_STORED;
        }
    }

    private final Path file;
    private final MemorySegment archive;
    private final Map<String, Entry> entries;

    private ZipArchive(Path file, MemorySegment archive, Map<String, Entry> entries) {
        this.file = file;
        this.archive = archive;
        this.entries = entries;
    }

    /**
     * Reads and validates the central directory of {@code archive}.
     *
     * @throws FormatException when the archive is truncated, inconsistent or hostile
     */
    static ZipArchive read(Path file, MemorySegment archive) throws FormatException {
        long length = archive.byteSize();
        long eocd = findEndOfCentralDirectory(file, archive);
        long count = Short.toUnsignedInt(archive.get(U16, eocd + 10));
        long cdSize = Integer.toUnsignedLong(archive.get(U32, eocd + 12));
        long cdOffset = Integer.toUnsignedLong(archive.get(U32, eocd + 16));
        long cdEnd = eocd;
        long locator = eocd - ZIP64_LOCATOR_SIZE;
        if (locator >= 0 && archive.get(U32, locator) == ZIP64_LOCATOR_SIGNATURE) {
            long z64 = archive.get(U64, locator + 8);
            if (z64 < 0 || z64 > locator - ZIP64_EOCD_SIZE || archive.get(U32, z64) != ZIP64_EOCD_SIGNATURE) {
                throw corrupt(file, "zip64 end-of-central-directory record at " + z64 + " is missing or out of range");
            }
            long count64 = archive.get(U64, z64 + 32);
            long cdSize64 = archive.get(U64, z64 + 40);
            long cdOffset64 = archive.get(U64, z64 + 48);
            // miniz keeps real values in the classic record when they fit: they must agree
            if ((count != U16_MAX && count != count64) || (cdSize != U32_MAX && cdSize != cdSize64)
                    || (cdOffset != U32_MAX && cdOffset != cdOffset64)) {
                throw corrupt(file, "zip64 and classic end-of-central-directory records disagree");
            }
            count = count64;
            cdSize = cdSize64;
            cdOffset = cdOffset64;
            cdEnd = z64;
        }
        if (count < 0 || count > MAX_ENTRIES) {
            throw new FormatException(file, Kind.LIMIT_EXCEEDED, "zip archive declares " + Long.toUnsignedString(count)
                    + " entries; at most " + MAX_ENTRIES + " are accepted");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdEnd || cdSize > cdEnd - cdOffset) {
            throw corrupt(file, "central directory [" + cdOffset + ", +" + cdSize + ") lies outside the "
                    + length + "-byte file (truncated download?)");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long pos = cdOffset;
        long end = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (end - pos < CENTRAL_SIZE || archive.get(U32, pos) != CENTRAL_SIGNATURE) {
                throw corrupt(file, "central directory entry " + i + " at byte " + pos + " is missing or truncated");
            }
            pos = readCentralEntry(file, archive, pos, end, cdOffset, entries);
        }
        return new ZipArchive(file, archive, Collections.unmodifiableMap(entries));
    }

    private static long findEndOfCentralDirectory(Path file, MemorySegment archive) throws FormatException {
        long length = archive.byteSize();
        if (length < EOCD_SIZE) {
            throw corrupt(file, "file is " + length + " bytes, too short for a zip archive (truncated?)");
        }
        long lowest = Math.max(0, length - EOCD_SIZE - U16_MAX);
        for (long p = length - EOCD_SIZE; p >= lowest; p--) {
            if (archive.get(U32, p) == EOCD_SIGNATURE
                    && p + EOCD_SIZE + Short.toUnsignedInt(archive.get(U16, p + 20)) == length) {
                return p;
            }
        }
        throw corrupt(file, "no zip end-of-central-directory record (truncated download or not a torch.save file)");
    }

    /** Parses one central header at {@code pos}, adds it, returns the position of the next one. */
    private static long readCentralEntry(Path file, MemorySegment archive, long pos, long end, long cdOffset,
                                         Map<String, Entry> entries) throws FormatException {
        int method = Short.toUnsignedInt(archive.get(U16, pos + 10));
        long compressed = Integer.toUnsignedLong(archive.get(U32, pos + 20));
        long size = Integer.toUnsignedLong(archive.get(U32, pos + 24));
        int nameLength = Short.toUnsignedInt(archive.get(U16, pos + 28));
        int extraLength = Short.toUnsignedInt(archive.get(U16, pos + 30));
        int commentLength = Short.toUnsignedInt(archive.get(U16, pos + 32));
        long localOffset = Integer.toUnsignedLong(archive.get(U32, pos + 42));
        long next = pos + CENTRAL_SIZE + nameLength + extraLength + commentLength;
        if (next > end) {
            throw corrupt(file, "central directory entry at byte " + pos + " runs past the directory's end");
        }
        String name = utf8(file, archive.asSlice(pos + CENTRAL_SIZE, nameLength));
        if (name.codePoints().anyMatch(Character::isISOControl)) {
            throw corrupt(file, "entry name at byte " + pos + " contains control characters");
        }
        // zip64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
        long extra = pos + CENTRAL_SIZE + nameLength;
        long extraEnd = extra + extraLength;
        while (extraEnd - extra >= 4) {
            int id = Short.toUnsignedInt(archive.get(U16, extra));
            int len = Short.toUnsignedInt(archive.get(U16, extra + 2));
            long field = extra + 4;
            if (field + len > extraEnd) {
                throw corrupt(file, "entry '" + name + "' has an extra field running past its header");
            }
            if (id == ZIP64_EXTRA_ID) {
                long fieldEnd = field + len;
                if (size == U32_MAX && field + 8 <= fieldEnd) {
                    size = archive.get(U64, field);
                    field += 8;
                }
                if (compressed == U32_MAX && field + 8 <= fieldEnd) {
                    compressed = archive.get(U64, field);
                    field += 8;
                }
                if (localOffset == U32_MAX && field + 8 <= fieldEnd) {
                    localOffset = archive.get(U64, field);
                }
            }
            extra += 4 + len;
        }
        long dataOffset = dataOffset(file, archive, name, localOffset, cdOffset);
        if (compressed < 0 || size < 0 || compressed > cdOffset - dataOffset) {
            throw corrupt(file, "entry '" + name + "' claims " + compressed + " bytes at offset " + dataOffset
                    + ", past the end of the entry data region at " + cdOffset + " (truncated?)");
        }
        if (method == METHOD_STORED && compressed != size) {
            throw corrupt(file, "stored entry '" + name + "' has size " + size + " but occupies " + compressed + " bytes");
        }
        if (entries.putIfAbsent(name, new Entry(name, method, dataOffset, compressed, size)) != null) {
            throw corrupt(file, "duplicate zip entry '" + name + "'");
        }
        return next;
    }

    private static long dataOffset(Path file, MemorySegment archive, String name, long localOffset, long cdOffset)
            throws FormatException {
        if (localOffset < 0 || localOffset > cdOffset - LOCAL_SIZE || archive.get(U32, localOffset) != LOCAL_SIGNATURE) {
            throw corrupt(file, "entry '" + name + "' points to a local header at " + Long.toUnsignedString(localOffset)
                    + " that is missing or outside the file");
        }
        int nameLength = Short.toUnsignedInt(archive.get(U16, localOffset + 26));
        int extraLength = Short.toUnsignedInt(archive.get(U16, localOffset + 28));
        long data = localOffset + LOCAL_SIZE + nameLength + extraLength;
        if (data > cdOffset) {
            throw corrupt(file, "local header of entry '" + name + "' runs into the central directory");
        }
        return data;
    }

    private static String utf8(Path file, MemorySegment bytes) throws FormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes.asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(file, "zip entry name is not valid UTF-8");
        }
    }

    private static FormatException corrupt(Path file, String message) {
        return new FormatException(file, Kind.TRUNCATED, "corrupt zip archive: " + message);
    }

    Path file() {
        return file;
    }

    /** Entries in central-directory order, by full name. */
    Map<String, Entry> entries() {
        return entries;
    }

    Optional<Entry> entry(String name) {
        return Optional.ofNullable(entries.get(name));
    }

    /**
     * The bytes of a stored entry: a zero-copy slice of the archive.
     *
     * @throws FormatException when the entry is compressed
     */
    MemorySegment storedBytes(Entry entry) throws FormatException {
        if (!entry.stored()) {
            throw new FormatException(file, Kind.UNSUPPORTED, "zip entry '" + entry.name() + "' is compressed (method "
                    + entry.method() + "); torch.save stores entries uncompressed, re-save the checkpoint with torch.save");
        }
        return archive.asSlice(entry.dataOffset(), entry.size());
    }
}

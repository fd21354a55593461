package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import java.lang.foreign.MemorySegment;

/**
 * Where the bytes of each storage key live: {@code data/<key>} records of a zip archive, or the
 * raw blocks after the pickles of a legacy file. Slices of the mapped file, valid while it is open.
 */
interface StorageRecords {
    /** Byte length of storage {@code key}, or -1 when there is none (or it cannot be read in place). */
    long byteSize(String key);

    /** The bytes of storage {@code key}: a zero-copy slice of the mapped file. */
    MemorySegment bytes(String key) throws FormatException;

    /** Byte offset of storage {@code key} in the file (its bytes are stored there as they are). */
    long fileOffset(String key);

    /** The records of a torch.save zip archive whose entries live under {@code prefix}. */
    record Zip(ZipArchive zip, String prefix) implements StorageRecords {
        @Override
        public long byteSize(String key) {
            return zip.entry(prefix + "data/" + key).filter(ZipArchive.Entry::stored).map(ZipArchive.Entry::size).orElse(-1L);
        }

        @Override
        public MemorySegment bytes(String key) throws FormatException {
            return zip.storedBytes(zip.entry(prefix + "data/" + key).orElseThrow());
        }

        @Override
        public long fileOffset(String key) {
            return zip.entry(prefix + "data/" + key).orElseThrow().dataOffset();
        }
    }
}

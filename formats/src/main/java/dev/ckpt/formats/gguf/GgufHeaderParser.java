package dev.ckpt.formats.gguf;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses and validates a GGUF v3 header from a mapped file, fail-closed, in file order:
 * magic, version 3 (wrong endianness detected), counts capped, every key non-empty, unique and
 * ≤ 65535 bytes, strings ≤ 1 GiB and valid UTF-8, arrays flat with ≤ 2^30 items, {@code general.alignment}
 * a UINT32 power of two, tensor names unique and &lt; 64 bytes, ≤ 4 dims, known type, whole blocks,
 * overflow-checked sizes, and offsets exactly as llama.cpp requires (each tensor at the aligned end of
 * the previous one), with the data inside the file.
 */
final class GgufHeaderParser {
    static final long MAX_STRING_BYTES = 1L << 30;
    static final long MAX_ARRAY_ITEMS = 1L << 30;
    static final long MAX_TENSORS = 1L << 24;
    static final long MAX_KVS = 1L << 20;
    static final int MAX_NAME_BYTES = 63;
    static final int MAX_DIMS = 4;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    record Header(Map<String, GgufValue> metadata, List<GgufTensorInfo> tensors, int alignment, long dataStart) {
    }

    private final Path path;
    private final MemorySegment seg;
    private long pos;

    GgufHeaderParser(Path path, MemorySegment seg) {
        this.path = path;
        this.seg = seg;
    }

    Header parse() throws FormatException {
        long size = seg.byteSize();
        if (size < 24) {
            throw err(Kind.HEADER_TOO_SMALL, "file has " + size + " bytes, a GGUF header needs at least 24");
        }
        int magic = u32i();
        if (magic != 0x46554747) {
            throw err(Kind.INVALID_HEADER, "not a GGUF file (magic 0x" + Integer.toHexString(magic) + ", expected \"GGUF\")");
        }
        long version = u32();
        if ((version & 0xFFFF) == 0 && version != 0) {
            throw err(Kind.UNSUPPORTED, "GGUF version 0x" + Long.toHexString(version) + " looks big-endian; only little-endian GGUF is supported");
        }
        if (version != 3) {
            throw err(Kind.UNSUPPORTED, "GGUF version " + version + " is not supported (expected 3)");
        }
        long tensorCount = u64();
        long kvCount = u64();
        if (tensorCount < 0 || tensorCount > MAX_TENSORS) {
            throw err(Kind.LIMIT_EXCEEDED, "tensor count " + Long.toUnsignedString(tensorCount) + " exceeds the limit " + MAX_TENSORS);
        }
        if (kvCount < 0 || kvCount > MAX_KVS) {
            throw err(Kind.LIMIT_EXCEEDED, "metadata count " + Long.toUnsignedString(kvCount) + " exceeds the limit " + MAX_KVS);
        }
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = string("metadata key");
            if (key.isEmpty()) {
                throw err(Kind.INVALID_HEADER, "metadata key " + i + " is empty");
            }
            if (key.length() > 65535) {
                throw err(Kind.LIMIT_EXCEEDED, "metadata key " + i + " is longer than 65535 bytes");
            }
            if (kv.containsKey(key)) {
                throw err(Kind.INVALID_HEADER, "duplicate metadata key " + key);
            }
            long typeId = u32();
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw err(Kind.INVALID_VALUE, "metadata " + key + " has unknown value type " + typeId);
            }
            kv.put(key, value(type, key));
        }
        int alignment = GgufFile.DEFAULT_ALIGNMENT;
        GgufValue a = kv.get("general.alignment");
        if (a != null) {
            if (!(a instanceof GgufValue.UInt32 u) || u.value() == 0 || Long.bitCount(u.value()) != 1 || u.value() > (1 << 30)) {
                throw err(Kind.INVALID_VALUE, "general.alignment must be a UINT32 power of two, got " + a);
            }
            alignment = (int) u.value();
        }
        List<GgufTensorInfo> tensors = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            tensors.add(tensorInfo(names));
        }
        long dataStart = tensorCount > 0 ? alignUp(pos, alignment) : pos;
        long expected = 0;
        for (GgufTensorInfo t : tensors) {
            if (t.offset() != expected) {
                throw err(Kind.INVALID_OFFSET, "tensor " + t.name() + " is at data offset " + t.offset()
                        + ", expected " + expected + " (tensors must be packed in order, each aligned to " + alignment + ")");
            }
            long bytes;
            try {
                bytes = t.byteSize();
                expected = alignUp(Math.addExact(t.offset(), bytes), alignment);
                if (Math.addExact(Math.addExact(dataStart, t.offset()), bytes) > size) {
                    throw err(Kind.INCOMPLETE_BUFFER, "tensor " + t.name() + " ends at byte "
                            + (dataStart + t.offset() + bytes) + " but the file has " + size + " (truncated download?)");
                }
            } catch (ArithmeticException e) {
                throw err(Kind.VALIDATION_OVERFLOW, "tensor " + t.name() + " size overflows");
            }
        }
        if (dataStart > size) {
            throw err(Kind.INCOMPLETE_BUFFER, "data section starts at " + dataStart + " past the end of the file (" + size + " bytes)");
        }
        return new Header(kv, tensors, alignment, dataStart);
    }

    private GgufTensorInfo tensorInfo(Set<String> names) throws FormatException {
        String name = string("tensor name");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw err(Kind.TENSOR_INVALID_INFO, "tensor name " + name + " is longer than " + MAX_NAME_BYTES + " bytes");
        }
        if (!names.add(name)) {
            throw err(Kind.DUPLICATE_TENSOR, "duplicate tensor " + name);
        }
        long nDims = u32();
        if (nDims > MAX_DIMS) {
            throw err(Kind.TENSOR_INVALID_INFO, "tensor " + name + " has " + nDims + " dims, at most " + MAX_DIMS + " allowed");
        }
        long[] ne = new long[(int) nDims];
        long nonZeroProduct = 1;
        for (int d = 0; d < nDims; d++) {
            ne[d] = u64();
            if (ne[d] < 0) {
                throw err(Kind.TENSOR_INVALID_INFO, "tensor " + name + " has a negative dimension");
            }
            try {
                // zero dims count as 1 here: [0, 2^40, 2^40] has no elements, yet every product taken in another
                // order (Shape counts outermost first, row counts skip ne[0]) would overflow
                nonZeroProduct = Math.multiplyExact(nonZeroProduct, Math.max(ne[d], 1));
            } catch (ArithmeticException e) {
                throw err(Kind.VALIDATION_OVERFLOW, "tensor " + name + " element count overflows");
            }
        }
        long typeId = u32();
        GgmlType type = GgmlType.byId(typeId);
        if (type == null) {
            throw err(Kind.UNKNOWN_DTYPE, "tensor " + name + " has unsupported ggml type " + typeId);
        }
        // a 0-dim tensor is one element (ggml fills missing dims with 1), so it cannot hold a quantized block either
        long columns = nDims > 0 ? ne[0] : 1;
        if (columns % type.blockSize() != 0) {
            throw err(Kind.TENSOR_INVALID_INFO, "tensor " + name + ": " + columns + " columns are not a multiple of the "
                    + type + " block size " + type.blockSize());
        }
        long offset = u64();
        if (offset < 0) {
            throw err(Kind.INVALID_OFFSET, "tensor " + name + " has offset " + Long.toUnsignedString(offset));
        }
        return new GgufTensorInfo(name, type, ne, offset);
    }

    private GgufValue value(GgufValueType type, String key) throws FormatException {
        return switch (type) {
            case UINT8 -> new GgufValue.UInt8(u8());
            case INT8 -> new GgufValue.Int8((byte) u8());
            case UINT16 -> new GgufValue.UInt16(u16() & 0xFFFF);
            case INT16 -> new GgufValue.Int16(u16());
            case UINT32 -> new GgufValue.UInt32(u32());
            case INT32 -> new GgufValue.Int32(u32i());
            case FLOAT32 -> new GgufValue.Float32(Float.intBitsToFloat(u32i()));
            case BOOL -> new GgufValue.Bool(u8() != 0);
            case STRING -> new GgufValue.Str(string(key));
            case UINT64 -> new GgufValue.UInt64(u64());
            case INT64 -> new GgufValue.Int64(u64());
            case FLOAT64 -> new GgufValue.Float64(Double.longBitsToDouble(u64()));
            case ARRAY -> array(key);
        };
    }

    private GgufValue array(String key) throws FormatException {
        long typeId = u32();
        GgufValueType et = GgufValueType.byId(typeId);
        if (et == null) {
            throw err(Kind.INVALID_VALUE, "array " + key + " has unknown element type " + typeId);
        }
        if (et == GgufValueType.ARRAY) {
            throw err(Kind.UNSUPPORTED, "array " + key + " is nested (llama.cpp rejects nested arrays)");
        }
        long n = u64();
        if (n < 0 || n > MAX_ARRAY_ITEMS) {
            throw err(Kind.LIMIT_EXCEEDED, "array " + key + " has " + Long.toUnsignedString(n) + " items, limit " + MAX_ARRAY_ITEMS);
        }
        long minBytes = n * Math.max(et.fixedSize(), 8);
        if (pos + minBytes > seg.byteSize()) {
            throw err(Kind.TRUNCATED, "array " + key + " of " + n + " items runs past the end of the file");
        }
        List<GgufValue> items = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            items.add(value(et, key));
        }
        return new GgufValue.Array(et, items);
    }

    private String string(String what) throws FormatException {
        long len = u64();
        if (len < 0 || len > MAX_STRING_BYTES) {
            throw err(Kind.LIMIT_EXCEEDED, what + " string of " + Long.toUnsignedString(len) + " bytes exceeds the 1 GiB limit");
        }
        need(len, what);
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, b, 0, (int) len);
        pos += len;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw err(Kind.INVALID_HEADER, what + " at byte " + (pos - len) + " is not valid UTF-8");
        }
    }

    private void need(long n, String what) throws FormatException {
        if (n > seg.byteSize() - pos) {
            throw err(Kind.TRUNCATED, "header ends inside " + what + " at byte " + pos + " (file has " + seg.byteSize() + " bytes)");
        }
    }

    private int u8() throws FormatException {
        need(1, "a value");
        return seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF;
    }

    private short u16() throws FormatException {
        need(2, "a value");
        short v = seg.get(I16, pos);
        pos += 2;
        return v;
    }

    private int u32i() throws FormatException {
        need(4, "a value");
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    private long u32() throws FormatException {
        return u32i() & 0xFFFF_FFFFL;
    }

    private long u64() throws FormatException {
        need(8, "a value");
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    static long alignUp(long v, long alignment) {
        return Math.addExact(v, alignment - 1) & -alignment;
    }

    private FormatException err(Kind kind, String msg) {
        return new FormatException(path, kind, msg);
    }
}

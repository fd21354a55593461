package dev.ckpt.formats.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parsed and fully validated safetensors header: the checks of the Rust reader
 * ({@code SafeTensors::read_metadata}) in the same order, each failure a {@link FormatException}
 * with its own {@link Kind}. Pure: works from the header bytes and the file length only.
 *
 * @param headerByteSize N, the length of the JSON header (the file's data starts at 8 + N)
 * @param entries tensors sorted by data offset (file order)
 * @param metadata the {@code __metadata__} strings (empty when absent)
 */
public record SafetensorsHeader(long headerByteSize, List<Entry> entries, Map<String, String> metadata) {
    /** Largest header accepted, as in the Rust crate (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    private static final BigInteger MAX_U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    /** One tensor: its info and its byte range [begin, end) relative to the data region. */
    public record Entry(TensorInfo info, long begin, long end) {
    }

    public SafetensorsHeader {
        entries = List.copyOf(entries);
        metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    /** Byte offset in the file where the data region starts (8 + N). */
    public long dataStart() {
        return 8 + headerByteSize;
    }

    /**
     * Validates the 8-byte length prefix (read as unsigned little-endian) against the file length.
     *
     * @return N, the header length
     */
    public static long checkLength(Path file, long fileByteSize, long rawN) throws FormatException {
        if (fileByteSize < 8) {
            throw new FormatException(file, Kind.HEADER_TOO_SMALL, "file has " + fileByteSize
                    + " bytes; a safetensors file starts with an 8-byte header length (is it truncated?)");
        }
        if (rawN < 0 || rawN > MAX_HEADER_BYTES) {
            throw new FormatException(file, Kind.HEADER_TOO_LARGE, "header length " + Long.toUnsignedString(rawN)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
        }
        if (8 + rawN > fileByteSize) {
            throw new FormatException(file, Kind.INVALID_HEADER_LENGTH, "header length " + rawN
                    + " runs past the end of the " + fileByteSize + "-byte file (truncated download?)");
        }
        return rawN;
    }

    /** Parses and validates header bytes (exactly N of them) of a file of {@code fileByteSize} bytes. */
    public static SafetensorsHeader parse(Path file, byte[] header, long fileByteSize) throws FormatException {
        long n = checkLength(file, fileByteSize, header.length);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new FormatException(file, Kind.INVALID_HEADER, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String why = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().lines().findFirst().orElse("");
            Kind kind = why.startsWith("Duplicate field") ? Kind.DUPLICATE_TENSOR : Kind.INVALID_JSON;
            throw new FormatException(file, kind, "header is not valid JSON: " + why);
        }
        if (root == null || !root.isObject()) {
            throw new FormatException(file, Kind.INVALID_JSON, "header must be a JSON object {name: {dtype, shape, data_offsets}}");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals("__metadata__")) {
                readMetadata(file, field.getValue(), metadata);
            } else {
                entries.add(readEntry(file, field.getKey(), field.getValue()));
            }
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        validateOffsets(file, entries, n, fileByteSize);
        return new SafetensorsHeader(n, entries, metadata);
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> out) throws FormatException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new FormatException(file, Kind.INVALID_JSON, "__metadata__ must be an object of strings");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new FormatException(file, Kind.INVALID_JSON, "__metadata__ value of '" + e.getKey()
                        + "' must be a string, found " + e.getValue().getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static Entry readEntry(Path file, String name, JsonNode node) throws FormatException {
        if (!node.isObject()) {
            throw bad(file, name, "must be an object {dtype, shape, data_offsets}");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw bad(file, name, "needs a string \"dtype\"");
        }
        DType dtype = DType.bySafetensorsName(dtypeNode.textValue());
        if (dtype == null) {
            throw new FormatException(file, Kind.UNKNOWN_DTYPE, "tensor '" + name + "' has unknown dtype '"
                    + abbreviate(dtypeNode.textValue()) + "' (expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, ...)");
        }
        long[] dims = readUnsignedArray(file, name, node.get("shape"), "shape", -1);
        long[] offsets = readUnsignedArray(file, name, node.get("data_offsets"), "data_offsets", 2);
        if (offsets[0] < 0 || offsets[1] < 0) {
            throw new FormatException(file, Kind.INVALID_OFFSET, "tensor '" + name + "' has data_offsets beyond 2^63");
        }
        for (long d : dims) {
            if (d < 0) {
                throw new FormatException(file, Kind.VALIDATION_OVERFLOW, "tensor '" + name + "' has a dimension beyond 2^63");
            }
        }
        return new Entry(new TensorInfo(name, dtype, Shape.of(dims)), offsets[0], offsets[1]);
    }

    /** Reads an array of u64; values above 2^63-1 come back negative for the caller to classify. */
    private static long[] readUnsignedArray(Path file, String name, JsonNode node, String field, int arity)
            throws FormatException {
        if (node == null || !node.isArray() || (arity >= 0 && node.size() != arity)) {
            throw bad(file, name, "needs \"" + field + "\" as an array of " + (arity >= 0 ? arity + " " : "") + "non-negative integers");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || v.bigIntegerValue().signum() < 0 || v.bigIntegerValue().compareTo(MAX_U64) > 0) {
                throw bad(file, name, "has \"" + field + "\" entry " + abbreviate(v.toString()) + "; expected an integer in [0, 2^64)");
            }
            BigInteger b = v.bigIntegerValue();
            out[i] = b.bitLength() > 63 ? -1 : b.longValue();
        }
        return out;
    }

    private static void validateOffsets(Path file, List<Entry> entries, long n, long fileByteSize) throws FormatException {
        long expected = 0;
        for (Entry e : entries) {
            String name = e.info().name();
            if (e.begin() != expected || e.end() < e.begin()) {
                throw new FormatException(file, Kind.INVALID_OFFSET, "tensor '" + name + "' has data_offsets ["
                        + e.begin() + ", " + e.end() + "] but the previous tensor ends at " + expected
                        + " (tensors must be contiguous and non-overlapping)");
            }
            long bits;
            try {
                bits = Math.multiplyExact(e.info().shape().elementCount(), (long) e.info().dtype().bitSize());
            } catch (ArithmeticException ex) {
                throw new FormatException(file, Kind.VALIDATION_OVERFLOW, "tensor '" + name + "' shape "
                        + e.info().shape() + " overflows 64-bit size arithmetic");
            }
            if (bits % 8 != 0) {
                throw new FormatException(file, Kind.MISALIGNED_SLICE, "tensor '" + name + "' " + e.info().dtype()
                        + e.info().shape() + " is " + bits + " bits, not a whole number of bytes");
            }
            if (e.end() - e.begin() != bits / 8) {
                throw new FormatException(file, Kind.TENSOR_INVALID_INFO, "tensor '" + name + "' spans [" + e.begin()
                        + ", " + e.end() + ") but " + e.info().dtype() + e.info().shape() + " needs " + bits / 8 + " bytes");
            }
            expected = e.end();
        }
        if (expected + 8 + n != fileByteSize) {
            throw new FormatException(file, Kind.INCOMPLETE_BUFFER, "tensor data ends at byte " + (expected + 8 + n)
                    + " but the file has " + fileByteSize + " bytes (truncated, or trailing data)");
        }
    }

    private static FormatException bad(Path file, String name, String what) {
        return new FormatException(file, Kind.INVALID_JSON, "tensor '" + abbreviate(name) + "' " + what);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}

package dev.ckpt.formats.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.ckpt.formats.TensorInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each tensor goes in a safetensors file, decided before any tensor byte exists (the writer
 * rules of the Rust crate): tensors sorted by dtype descending in {@link dev.ckpt.formats.DType}
 * order, then by name (UTF-8 byte order); offsets contiguous from 0; compact JSON header with
 * {@code __metadata__} first, padded with spaces to a multiple of 8 so every tensor is aligned.
 *
 * @param placed tensors in data order with their [begin, end) within the data region
 * @param prefix the 8-byte length plus the padded JSON header: the first {@code prefix.length} bytes of the file
 */
public record SafetensorsLayout(List<Placed> placed, byte[] prefix) {
    /** A tensor and its byte range relative to the start of the data region. */
    public record Placed(TensorInfo info, long begin, long end) {
        public long byteSize() {
            return end - begin;
        }
    }

    private static final JsonFactory JSON = new JsonFactory();
    private static final Comparator<TensorInfo> ORDER = Comparator
            .comparing((TensorInfo t) -> t.dtype().ordinal()).reversed()
            .thenComparing((a, b) -> Arrays.compareUnsigned(
                    a.name().getBytes(StandardCharsets.UTF_8), b.name().getBytes(StandardCharsets.UTF_8)));

    public SafetensorsLayout {
        placed = List.copyOf(placed);
    }

    /**
     * Lays out {@code tensors} with the given {@code __metadata__} (written when non-empty).
     *
     * @throws IllegalArgumentException on duplicate names or a header over 100 MB
     */
    public static SafetensorsLayout of(List<TensorInfo> tensors, Map<String, String> metadata) {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(ORDER);
        Set<String> seen = new HashSet<>();
        List<Placed> placed = new ArrayList<>(sorted.size());
        long offset = 0;
        for (TensorInfo t : sorted) {
            if (!seen.add(t.name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + t.name() + "'");
            }
            long end = Math.addExact(offset, t.byteSize());
            placed.add(new Placed(t, offset, end));
            offset = end;
        }
        return new SafetensorsLayout(placed, prefix(placed, metadata));
    }

    private static byte[] prefix(List<Placed> placed, Map<String, String> metadata) {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(json)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart("__metadata__");
                for (Map.Entry<String, String> e : new java.util.TreeMap<>(metadata).entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            for (Placed p : placed) {
                g.writeObjectFieldStart(p.info().name());
                g.writeStringField("dtype", p.info().dtype().name());
                g.writeArrayFieldStart("shape");
                for (long d : p.info().shape().dims()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(p.begin());
                g.writeNumber(p.end());
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        int n = json.size();
        int padded = (n + 7) & ~7;
        if (padded > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("safetensors header would be " + padded + " bytes, over the 100 MB limit");
        }
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json.toByteArray());
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.array();
    }

    /** Bytes of tensor data (sum of the tensors' sizes). */
    public long dataByteSize() {
        return placed.isEmpty() ? 0 : placed.getLast().end();
    }

    /** Total file size: prefix plus data. */
    public long fileByteSize() {
        return prefix.length + dataByteSize();
    }
}

package dev.ckpt.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test fixture: writes a safetensors file from float arrays, encoded as F32, F16 or BF16. */
final class SafetensorsBytes {
    record Tensor(long[] shape, float[] values) {
    }

    private SafetensorsBytes() {
    }

    /** Rounds {@code v} to what {@code dtype} stores (RNE), so oracles see the stored values. */
    static float round(float v, String dtype) {
        return switch (dtype) {
            case "F32" -> v;
            case "F16" -> Float.float16ToFloat(Float.floatToFloat16(v));
            case "BF16" -> Float.intBitsToFloat(bf16Bits(v) << 16);
            default -> throw new IllegalArgumentException(dtype);
        };
    }

    static int bf16Bits(float v) {
        int bits = Float.floatToRawIntBits(v);
        int lsb = (bits >> 16) & 1;
        return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
    }

    static void write(Path file, Map<String, Tensor> tensors, String dtype) throws IOException {
        int width = dtype.equals("F32") ? 4 : 2;
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        Map<String, Tensor> ordered = new LinkedHashMap<>(tensors);
        for (var e : ordered.entrySet()) {
            long bytes = (long) e.getValue().values().length * width;
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtype);
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] h = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length + pad);
            out.write(len.array());
            out.write(h);
            out.write(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
            for (Tensor t : ordered.values()) {
                ByteBuffer b = ByteBuffer.allocate(t.values().length * width).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : t.values()) {
                    switch (dtype) {
                        case "F32" -> b.putFloat(v);
                        case "F16" -> b.putShort(Float.floatToFloat16(v));
                        default -> b.putShort((short) bf16Bits(v));
                    }
                }
                out.write(b.array());
            }
        }
    }
}

package dev.ckpt.formats.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes the GGUF seed files (GgufValue factories are package-private, hence this class here) of {@link GgufOpenFuzzTest}: every metadata wire type and a few tensor types. */
public final class FuzzSeedsAccess {
    private FuzzSeedsAccess() {
    }

    public static void write(Path dir) throws IOException {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.of("llama"));
        md.put("general.alignment", GgufValue.u32(32));
        md.put("u8", new GgufValue.UInt8(200));
        md.put("i8", new GgufValue.Int8((byte) -3));
        md.put("u16", new GgufValue.UInt16(60000));
        md.put("i16", new GgufValue.Int16((short) -300));
        md.put("i32", new GgufValue.Int32(-70000));
        md.put("f32", new GgufValue.Float32(0.5f));
        md.put("bool", new GgufValue.Bool(true));
        md.put("u64", new GgufValue.UInt64(1L << 40));
        md.put("i64", new GgufValue.Int64(-(1L << 40)));
        md.put("f64", new GgufValue.Float64(0.25));
        md.put("tokenizer.ggml.tokens", GgufValue.strings(List.of("<s>", "a", "b")));
        md.put("tokenizer.ggml.scores", GgufValue.floats(new float[] {0, 1, 2}));
        md.put("tokenizer.ggml.token_type", GgufValue.ints(new int[] {3, 1, 1}));
        GgufWriter.write(dir.resolve("seed-types.gguf"), md, List.of(
                tensor("f32", GgmlType.F32, 8, 2), tensor("f16", GgmlType.F16, 4),
                tensor("q4_0", GgmlType.Q4_0, 32), tensor("q8_0", GgmlType.Q8_0, 32, 2)),
                GgufWriter.Options.defaults());
        GgufWriter.write(dir.resolve("seed-empty.gguf"), Map.of("general.architecture", GgufValue.of("clip")), List.of(),
                GgufWriter.Options.defaults());
    }

    private static GgufWriter.Tensor tensor(String name, GgmlType type, long... ne) {
        return new GgufWriter.Tensor(name, type, ne, GgufWriter.TensorSource.of(s -> s.fill((byte) 0x3c)));
    }
}

package dev.ckpt.tools.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.gguf.GgufWriter;
import dev.ckpt.tools.quant.QuantType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing (Jazzer) of what ckpt does with a GGUF that parses: the import to safetensors (llama
 * metadata to config.json, names, the inverse Q/K permutation, dequantization of every tensor) and the quantize
 * plan. Any bytes either convert or end in {@link FormatException}. Replays {@code GgufImportFuzzTestInputs/} in a
 * normal test run (the seed: a one-block llama with F32, F16, Q8_0 and Q4_K tensors, see {@link #writeSeed});
 * {@code scripts/fuzz.sh} fuzzes.
 */
class GgufImportFuzzTest {
    private static final Path FILE = FuzzTempFile.create(".gguf");

    @FuzzTest(maxDuration = "60s")
    void importAndPlanQuantization(byte[] data) throws IOException {
        Files.write(FILE, data);
        try (GgufFile f = GgufFile.open(FILE)) {
            try {
                for (PlannedTensor t : GgufImport.plan(f, null).tensors()) {
                    long n = t.info().byteSize();
                    try (Arena a = Arena.ofConfined()) {
                        t.recipe().fill(a.allocate(Math.max(1, n)).asSlice(0, n));
                    }
                }
            } catch (FormatException expected) {
                // refused in one line
            }
            GgufExport.fromGguf(f, QuantType.Q8_0);
        } catch (FormatException expected) {
            // refused in one line
        }
    }

    /** Writes the committed seed {@code seed-one-block-llama.gguf} (called by hand from a scratch main to rebuild it). */
    static void writeSeed(Path out) throws IOException {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", new GgufValue.Str("llama"));
        md.put("llama.block_count", new GgufValue.UInt32(1));
        md.put("llama.embedding_length", new GgufValue.UInt32(32));
        md.put("llama.feed_forward_length", new GgufValue.UInt32(256));
        md.put("llama.attention.head_count", new GgufValue.UInt32(2));
        md.put("llama.attention.head_count_kv", new GgufValue.UInt32(1));
        md.put("llama.context_length", new GgufValue.UInt32(64));
        md.put("llama.attention.layer_norm_rms_epsilon", new GgufValue.Float32(1e-5f));
        md.put("tokenizer.ggml.bos_token_id", new GgufValue.UInt32(1));
        GgufWriter.write(out, md, List.of(
                tensor("token_embd.weight", GgmlType.F16, 32, 8), tensor("output_norm.weight", GgmlType.F32, 32),
                tensor("blk.0.attn_norm.weight", GgmlType.F32, 32), tensor("blk.0.attn_q.weight", GgmlType.Q8_0, 32, 32),
                tensor("blk.0.attn_k.weight", GgmlType.F32, 32, 16), tensor("blk.0.ffn_down.weight", GgmlType.Q4_K, 256, 2)),
                GgufWriter.Options.defaults());
    }

    private static GgufWriter.Tensor tensor(String name, GgmlType type, long... ne) {
        return new GgufWriter.Tensor(name, type, ne, GgufWriter.TensorSource.of(s -> s.fill((byte) 0x21)));
    }
}

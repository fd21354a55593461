package dev.ckpt.tools.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.cli.Main;
import dev.ckpt.tools.quant.LlamaCppQuantizer;
import dev.ckpt.tools.quant.QuantType;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * ckpt's GGUF files against independent implementations from npm: llama.cpp (node-llama-cpp, its
 * bundled libllama) and @huggingface/gguf. Skipped only when the build could not install them.
 */
class LlamaCppInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT = {1, 300, 301, 302, 303};

    @TempDir
    static Path dir;

    static Path tinyF32;
    static Path kModel;

    @BeforeAll
    static void models() throws Exception {
        tinyF32 = dir.resolve("tiny-f32");
        SyntheticLlama.write(tinyF32, SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F32));
        kModel = dir.resolve("k");
        var t = SyntheticLlama.Options.tiny();
        SyntheticLlama.write(kModel, new SyntheticLlama.Options(7, t.vocabSize(), 256, 512, 4, 4, 2,
                SyntheticLlama.Dtypes.F32, 1, t.maxShardBytes()));
    }

    static String ckpt(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        assertEquals(0, code, () -> "ckpt " + String.join(" ", args) + ": " + err);
        return out.toString();
    }

    static JsonNode llama(Path gguf, int steps) throws Exception {
        String ids = String.join(",", Arrays.stream(PROMPT).mapToObj(String::valueOf).toList());
        return JSON.readTree(Peers.node("llama-eval.mjs", gguf.toString(), ids, String.valueOf(steps)));
    }

    @Test
    void llamaCppMatchesReferenceForwardPassOnF32Gguf() throws Exception {
        Peers.assumeInstalled();
        Path gguf = dir.resolve("tiny-f32.gguf");
        ckpt("convert", tinyF32.toString(), "--to", "gguf", "--type", "f32", "--out", gguf.toString());
        ReferenceLlama ref = new ReferenceLlama(tinyF32);
        double[] expected = ref.logSoftmaxAfter(PROMPT);
        JsonNode r = llama(gguf, 3);
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double got = r.path("logp").path(String.valueOf(i)).asDouble(Double.NaN);
            maxDiff = Math.max(maxDiff, Math.abs(got - expected[i]));
        }
        assertTrue(maxDiff < 1e-4, "max |Δ log p| llama.cpp vs reference = " + maxDiff);
        int[] greedy = JSON.convertValue(r.get("greedy"), int[].class);
        assertArrayEquals(ref.greedy(PROMPT, 3), greedy, "greedy tokens");
        // the tokenizer metadata drives llama.cpp's own tokenizer like the HF BPE merges do
        assertEquals("[314,317]", r.get("tokenize").toString(), "llama.cpp tokenization of 'hello world'");
    }

    @Test
    void quantizedGgufLoadsDeterministicallyWithReferenceGreedyTokens() throws Exception {
        Peers.assumeInstalled();
        ReferenceLlama ref = new ReferenceLlama(kModel);
        int[] refGreedy = ref.greedy(PROMPT, 2);
        for (String type : new String[] {"Q8_0", "Q6_K"}) {
            Path gguf = dir.resolve("k-" + type + ".gguf");
            ckpt("quantize", kModel.toString(), "--type", type, "--out", gguf.toString());
            JsonNode a = llama(gguf, 2);
            JsonNode b = llama(gguf, 2);
            assertEquals(a, b, type + ": two llama.cpp runs differ");
            a.path("logp").forEach(v -> assertTrue(Double.isFinite(v.asDouble()), type + ": non-finite log p"));
            assertArrayEquals(refGreedy, JSON.convertValue(a.get("greedy"), int[].class), type + " greedy tokens");
        }
        Path q4 = dir.resolve("k-Q4_K_M.gguf");
        ckpt("quantize", kModel.toString(), "--type", "Q4_K_M", "--out", q4.toString());
        llama(q4, 1).path("logp").forEach(v -> assertTrue(Double.isFinite(v.asDouble()), "Q4_K_M: non-finite log p"));
    }

    @Test
    void quantizeIsByteIdenticalToLlamaModelQuantize() throws Exception {
        Peers.assumeInstalled();
        Path f32 = dir.resolve("k-f32.gguf");
        ckpt("convert", kModel.toString(), "--to", "gguf", "--type", "f32", "--out", f32.toString());
        try (LlamaCppQuantizer ref = new LlamaCppQuantizer(Peers.LIB_DIR)) {
            for (QuantType t : QuantType.values()) {
                Path theirs = dir.resolve("ref-" + t + ".gguf");
                Path ours = dir.resolve("ours-" + t + ".gguf");
                ref.quantize(f32, theirs, t, 2);
                ckpt("quantize", f32.toString(), "--type", t.name(), "--out", ours.toString(), "--threads", "2");
                Path fromHf = dir.resolve("ours-hf-" + t + ".gguf");
                ckpt("quantize", kModel.toString(), "--type", t.name(), "--out", fromHf.toString());
                try (GgufFile a = GgufFile.open(theirs); GgufFile b = GgufFile.open(ours); GgufFile c = GgufFile.open(fromHf)) {
                    assertEquals(a.ggufTensors().stream().map(GgufTensorInfo::toString).toList(),
                            c.ggufTensors().stream().map(GgufTensorInfo::toString).toList(), t + ": tensor infos (from HF)");
                    for (GgufTensorInfo ti : a.ggufTensors()) {
                        assertEquals(-1L, a.bytes(ti.name()).mismatch(c.bytes(ti.name())), t + ": bytes of " + ti.name() + " (from HF)");
                    }
                    assertEquals(a.ggufTensors().stream().map(GgufTensorInfo::toString).toList(),
                            b.ggufTensors().stream().map(GgufTensorInfo::toString).toList(), t + ": tensor infos");
                    for (GgufTensorInfo ti : a.ggufTensors()) {
                        assertEquals(-1L, a.bytes(ti.name()).mismatch(b.bytes(ti.name())), t + ": bytes of " + ti.name());
                    }
                }
            }
        }
    }

    @Test
    void huggingfaceGgufParsesEveryFileCkptWrites() throws Exception {
        Peers.assumeInstalled();
        Path f16 = dir.resolve("hf-f16.gguf");
        ckpt("convert", tinyF32.toString(), "--to", "gguf", "--type", "f16", "--out", f16.toString());
        Path q8 = dir.resolve("hf-q8.gguf");
        ckpt("convert", tinyF32.toString(), "--to", "gguf", "--type", "q8_0", "--out", q8.toString());
        Path q5 = dir.resolve("hf-q5km.gguf");
        ckpt("quantize", kModel.toString(), "--type", "Q5_K_M", "--out", q5.toString());
        for (Path p : new Path[] {f16, q8, q5}) {
            JsonNode info = JSON.readTree(Peers.node("gguf-info.mjs", p.toString()));
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(3, info.get("version").asInt());
                assertEquals(f.metadata().keySet().stream().toList(),
                        JSON.convertValue(info.get("keys"), java.util.List.class), p + ": metadata keys");
                JsonNode ts = info.get("tensors");
                assertEquals(f.ggufTensors().size(), ts.size());
                for (int i = 0; i < ts.size(); i++) {
                    GgufTensorInfo t = f.ggufTensors().get(i);
                    JsonNode j = ts.get(i);
                    assertEquals(t.name(), j.get("name").asText());
                    assertEquals(t.type().id(), j.get("dtype").asInt(), t.name());
                    assertArrayEquals(t.ne(), JSON.convertValue(j.get("shape"), long[].class), t.name());
                    assertEquals(t.offset(), j.get("offset").asLong(), t.name());
                }
            }
        }
    }
}

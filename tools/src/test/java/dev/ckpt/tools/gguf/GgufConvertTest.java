package dev.ckpt.tools.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class GgufConvertTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run ckpt(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** HF -> GGUF -> HF is the identity for f32 and bf16 sources (names, Q/K permutation, bytes). */
    @Test
    void roundTripIsExact() throws Exception {
        for (SyntheticLlama.Dtypes dt : new SyntheticLlama.Dtypes[] {SyntheticLlama.Dtypes.F32, SyntheticLlama.Dtypes.MIXED}) {
            Path src = dir.resolve("src-" + dt);
            SyntheticLlama.write(src, SyntheticLlama.Options.tiny().withDtypes(dt).withKvHeads(2));
            Path gguf = dir.resolve(dt + ".gguf");
            Run r = ckpt("convert", src.toString(), "--to", "gguf", "--out", gguf.toString());
            assertEquals(0, r.code(), r.err());
            try (GgufFile f = GgufFile.open(gguf)) {
                assertEquals(dt == SyntheticLlama.Dtypes.F32 ? GgmlType.F32 : GgmlType.BF16,
                        f.ggufTensor("blk.0.attn_q.weight").orElseThrow().type());
                assertEquals(GgmlType.F32, f.ggufTensor("blk.0.attn_norm.weight").orElseThrow().type());
                assertEquals("llama", ((GgufValue.Str) f.metadata().get("general.architecture")).value());
                assertEquals(2L, f.metadata().get("llama.attention.head_count_kv").asLong());
            }
            Path back = dir.resolve("back-" + dt);
            r = ckpt("convert", gguf.toString(), "--to", "safetensors", "--out", back.toString());
            assertEquals(0, r.code(), r.err());
            try (Checkpoint a = Checkpoint.open(src); Checkpoint b = Checkpoint.open(back)) {
                assertEquals(a.tensors().size(), b.tensors().size());
                for (TensorInfo t : a.tensors()) {
                    TensorInfo u = b.tensor(t.name()).orElseThrow(() -> new AssertionError("missing " + t.name()));
                    assertEquals(t.shape(), u.shape(), t.name());
                    assertEquals(t.dtype(), u.dtype(), t.name());
                    assertEquals(-1L, a.view(t.name()).data().mismatch(b.view(t.name()).data()), t.name() + " bytes");
                }
                assertEquals(2, b.config().orElseThrow().get("num_key_value_heads").asInt());
            }
        }
    }

    /** The permutation interleaves rotary halves per head; q and k differ in head count under GQA. */
    @Test
    void qkRowsArePermutedPerHead() throws Exception {
        Path src = dir.resolve("src");
        SyntheticLlama.write(src, SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F32).withKvHeads(2));
        Path gguf = dir.resolve("m.gguf");
        assertEquals(0, ckpt("convert", src.toString(), "--to", "gguf", "--out", gguf.toString()).code());
        try (Checkpoint ck = Checkpoint.open(src); GgufFile f = GgufFile.open(gguf)) {
            int cols = 64;
            float[] hf = new float[cols];
            float[] gg = new float[cols];
            for (String[] p : new String[][] {{"q_proj", "attn_q", "4"}, {"k_proj", "attn_k", "2"}}) {
                int heads = Integer.parseInt(p[2]);
                TensorInfo t = ck.tensor("model.layers.1.self_attn." + p[0] + ".weight").orElseThrow();
                int rows = (int) t.shape().dim(0);
                int hd = rows / heads;
                for (int out = 0; out < rows; out++) {
                    int h = out / hd;
                    int i = (out % hd) / 2;
                    int j = out % 2;
                    int in = h * hd + j * (hd / 2) + i;
                    FloatCodec.decode(ck.view(t.name()).data(), 4L * in * cols, DType.F32, hf, 0, cols);
                    FloatCodec.decode(f.bytes("blk.1." + p[1] + ".weight"), 4L * out * cols, DType.F32, gg, 0, cols);
                    assertEquals(java.util.Arrays.toString(hf), java.util.Arrays.toString(gg), p[1] + " row " + out);
                }
            }
        }
    }

    @Test
    void q8ConvertDequantizesClose() throws Exception {
        Path src = dir.resolve("src");
        SyntheticLlama.write(src, SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F32));
        Path gguf = dir.resolve("q8.gguf");
        assertEquals(0, ckpt("convert", src.toString(), "--to", "gguf", "--type", "q8_0", "--out", gguf.toString()).code());
        try (GgufFile f = GgufFile.open(gguf)) {
            assertEquals(GgmlType.Q8_0, f.ggufTensor("blk.0.ffn_up.weight").orElseThrow().type());
            assertEquals(GgmlType.F16, f.ggufTensor("blk.0.ffn_down.weight").orElseThrow().type(), "172 columns: not a multiple of 32");
        }
        Path back = dir.resolve("back");
        assertEquals(0, ckpt("convert", gguf.toString(), "--to", "safetensors", "--dtype", "f32", "--out", back.toString()).code());
        try (Checkpoint a = Checkpoint.open(src); Checkpoint b = Checkpoint.open(back)) {
            for (TensorInfo t : a.tensors()) {
                int n = (int) t.elementCount();
                float[] x = new float[n];
                float[] y = new float[n];
                FloatCodec.decode(a.view(t.name()).data(), 0, DType.F32, x, 0, n);
                FloatCodec.decode(b.view(t.name()).data(), 0, DType.F32, y, 0, n);
                double amax = 0;
                double err = 0;
                for (int i = 0; i < n; i++) {
                    amax = Math.max(amax, Math.abs(x[i]));
                    err = Math.max(err, Math.abs(x[i] - y[i]));
                }
                assertTrue(err <= amax / 100, t.name() + ": error " + err);
            }
        }
    }

    /** ckpt verify on a quantized GGUF: dequantized smoke inference against the unquantized source. */
    @Test
    void verifyComparesQuantizedGgufWithItsSource() throws Exception {
        Path src = dir.resolve("src");
        SyntheticLlama.write(src, SyntheticLlama.Options.tiny());
        Path q8 = dir.resolve("q8.gguf");
        assertEquals(0, ckpt("quantize", src.toString(), "--type", "Q8_0", "--out", q8.toString()).code());
        Run r = ckpt("verify", q8.toString(), "--reference", src.toString(), "--threads", "1", "--tokens", "3",
                "--max-abs-delta", "1", "--min-top1", "0.6", "--max-kl", "0.05", "--json");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("top1"), r.out());
        try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("ckpt-verify-gguf-") && Files.exists(p.resolve("model/config.json"))
                    && p.toFile().lastModified() > System.currentTimeMillis() - 5000), "staged copy removed");
        }
    }

    @Test
    void errorsAreOneLineWithExitCodes() throws Exception {
        Path src = dir.resolve("src");
        SyntheticLlama.write(src, SyntheticLlama.Options.tiny());
        Run r = ckpt("quantize", src.toString(), "--type", "Q3_K", "--out", dir.resolve("x.gguf").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("ckpt: unknown quantization type Q3_K"), r.err());
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, "GGUF\3\0\0\0garbage".getBytes());
        r = ckpt("quantize", bad.toString(), "--type", "Q8_0", "--out", dir.resolve("y.gguf").toString());
        assertEquals(3, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        Path out = dir.resolve("z.gguf");
        assertEquals(0, ckpt("quantize", src.toString(), "--type", "Q8_0", "--out", out.toString()).code());
        r = ckpt("quantize", src.toString(), "--type", "Q8_0", "--out", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("--force"), r.err());
        r = ckpt("quantize", src.toString(), "--type", "Q4_K_M", "--dry-run");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("output.weight") && r.out().contains("Q8_0"), r.out());
        assertTrue(Files.exists(out));
        r = ckpt("quantize", src.toString(), "--type", "Q8_0", "--dry-run", "--json");
        assertEquals(0, r.code(), r.err());
        var plan = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals(21, plan.get("tensors").asInt());
        assertEquals("Q8_0", plan.get("plan").get(0).get("type").asText(), "output.weight (64 columns) falls back to Q8_0");
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }
}

package dev.ckpt.tools.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.cli.Main;
import dev.ckpt.tools.gguf.GgufSource;
import dev.ckpt.verify.Verify;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * ckpt's DJL forward pass (the verifier's) against llama.cpp (node-llama-cpp's bundled libllama, f32
 * KV cache, no flash attention) on the same tiny f32 model: the next-token log-softmax after the
 * prompt agrees to f32 tolerance, both when DJL reads the safetensors checkpoint and when it reads the
 * GGUF file llama.cpp loaded (dequantized on the fly by {@link GgufSource}), and the greedy tokens agree.
 */
class DjlVsLlamaCppTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int[] PROMPT = {1, 300, 301, 302, 303};
    /** peers.md: a tiny f32 Llama agrees with a plain f32 forward pass to about 3e-6 in log-softmax (measured here: 1.5e-6). */
    private static final double TOLERANCE = 1e-5;

    @TempDir
    static Path dir;
    static Path model;
    static Path gguf;
    static JsonNode llama;

    @BeforeAll
    static void models() throws Exception {
        Peers.assumeInstalled();
        model = dir.resolve("tiny-f32");
        SyntheticLlama.write(model, SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F32).withSeed(11));
        gguf = dir.resolve("tiny-f32.gguf");
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("convert", model.toString(), "--to", "gguf", "--type", "f32", "--out", gguf.toString()), err::toString);
        String ids = String.join(",", Arrays.stream(PROMPT).mapToObj(String::valueOf).toList());
        llama = JSON.readTree(Peers.node("llama-eval.mjs", gguf.toString(), ids, "3"));
    }

    private static Verify.Outcome djl(Path what) throws Exception {
        var options = new Verify.Options(what, null, "cpu", "f32", null, Arrays.stream(PROMPT).boxed().toList(), null, null, 3,
                Verify.Thresholds.EXACT);
        return Verify.runWithLogits(options, GgufSource.OPENER);
    }

    private static double maxLogSoftmaxDiff(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l - max);
        }
        double logZ = max + Math.log(sum);
        double worst = 0;
        for (int i = 0; i < logits.length; i++) {
            double theirs = llama.path("logp").path(String.valueOf(i)).asDouble(Double.NaN);
            double diff = Math.abs((logits[i] - logZ) - theirs);
            worst = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(worst, diff);
        }
        return worst;
    }

    @Test
    void nextTokenLogSoftmaxMatchesLlamaCppFromSafetensorsAndFromTheGguf() throws Exception {
        for (Path input : List.of(model, gguf)) {
            Verify.Outcome o = djl(input);
            assertTrue(o.report().passed(), () -> input + ": " + o.report().checks());
            double diff = maxLogSoftmaxDiff(o.logits()[0]);
            assertTrue(diff < TOLERANCE, input + ": max |Δ log p| DJL vs llama.cpp = " + diff);
            int[] greedy = JSON.convertValue(llama.get("greedy"), int[].class);
            assertArrayEquals(greedy, o.report().generatedIds().stream().mapToInt(Integer::intValue).toArray(), input + ": greedy tokens");
        }
    }

    @Test
    void aPerturbedLogitVectorIsCaught() throws Exception {
        float[] logits = djl(model).logits()[0].clone();
        logits[7] += 1e-3f; // the comparison must be able to fail
        assertTrue(maxLogSoftmaxDiff(logits) > TOLERANCE);
    }
}

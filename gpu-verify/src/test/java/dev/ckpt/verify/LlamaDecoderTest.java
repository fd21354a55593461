package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LlamaDecoderTest {
    @TempDir
    Path tmp;

    static List<TinyModels.LlamaSpec> specs() {
        var s = TinyModels.LlamaSpec.small();
        return List.of(s,
                new TinyModels.LlamaSpec(64, 96, 2, 4, 4, true, "F32", null, 10000, 11),
                new TinyModels.LlamaSpec(64, 96, 1, 4, 1, false, "BF16", "linear", 500000, 12),
                new TinyModels.LlamaSpec(48, 64, 2, 2, 2, false, "F16", "dynamic", 10000, 13));
    }

    /** Greedy tokens and every decoded position's logits agree with the plain-Java oracle. */
    @ParameterizedTest
    @MethodSource("specs")
    void matchesPlainJavaReference(TinyModels.LlamaSpec spec) throws Exception {
        Path dir = tmp.resolve("m");
        Map<String, float[]> weights = TinyModels.writeLlama(dir, spec);
        int vocab = TinyModels.vocab().size();
        int[] prompt = "dynamic".equals(spec.ropeScaling())
                ? new int[] {1, 290, 291, 292, 293, 294, 295, 296, 297, 298, 299, 300, 301, 302, 303, 304, 305, 306, 307, 308}
                : new int[] {1, 280, 290, 300, 310};
        var options = new Verify.Options(dir, null, "cpu", "f32", null, Arrays.stream(prompt).boxed().toList(), null, null, 4,
                Verify.Thresholds.EXACT);
        Verify.Outcome out = Verify.runWithLogits(options);
        assertThat(out.report().passed()).as(ReportFormats.summary(out.report())).isTrue();
        ReferenceLlama ref = new ReferenceLlama(weights, spec, vocab);
        int[] seq = prompt;
        int positions = "dynamic".equals(spec.ropeScaling()) ? 1 : out.logits().length;
        for (int p = 0; p < positions; p++) {
            double[] expected = ref.lastLogits(ref.embed(seq));
            float[] actual = out.logits()[p];
            for (int i = 0; i < vocab; i++) {
                assertThat((double) actual[i]).as("position %d logit %d", p, i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(2e-4));
            }
            int argmax = 0;
            for (int i = 1; i < vocab; i++) {
                argmax = expected[i] > expected[argmax] ? i : argmax;
            }
            assertThat(out.report().generatedIds().get(p)).isEqualTo(argmax);
            seq = Arrays.copyOf(seq, seq.length + 1);
            seq[seq.length - 1] = argmax;
        }
    }
}

package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyChecksTest {
    @TempDir
    Path tmp;

    private Path model(String name, long seed) throws Exception {
        Path dir = tmp.resolve(name);
        var s = TinyModels.LlamaSpec.small();
        TinyModels.writeLlama(dir, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.tied(), s.dtype(), null, s.ropeTheta(), seed));
        return dir;
    }

    private static Verify.Options opts(Path dir) {
        return new Verify.Options(dir, null, "cpu", "auto", null, null, null, null, 4, Verify.Thresholds.EXACT);
    }

    /** Rewrites model.safetensors with one tensor added, removed or reshaped. */
    private static void rewrite(Path dir, String add, String remove, String reshape) throws Exception {
        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        try (CheckpointSource src = CheckpointSource.open(dir)) {
            for (var info : src.tensors()) {
                float[] v = new float[(int) info.elementCount()];
                src.view(info.name()).data().asByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                long[] shape = info.shape().dims();
                if (info.name().equals(reshape)) {
                    shape = new long[] {shape[1], shape[0]};
                }
                if (!info.name().equals(remove)) {
                    t.put(info.name(), new SafetensorsBytes.Tensor(shape, v));
                }
            }
        }
        if (add != null) {
            t.put(add, new SafetensorsBytes.Tensor(new long[] {2}, new float[] {1, 2}));
        }
        SafetensorsBytes.write(dir.resolve("model.safetensors"), t, "F32");
    }

    @Test
    void tokenizerPromptDecodesAndPasses() throws Exception {
        SmokeReport r = Verify.run(opts(model("m", 1)));
        assertThat(r.passed()).as(ReportFormats.summary(r)).isTrue();
        assertThat(r.promptIds()).startsWith(1).hasSizeGreaterThan(3);
        assertThat(r.generatedIds()).hasSize(4);
        assertThat(r.generatedText()).isNotNull();
        assertThat(r.checks()).extracting(SmokeReport.Check::name)
                .contains("tensors-match-config", "tensors-used", "logits-finite", "greedy-decode");
        assertThat(r.computeType()).isEqualTo("float32");
    }

    @Test
    void unusedTensorFails() throws Exception {
        Path dir = model("m", 1);
        rewrite(dir, "model.extra.weight", null, null);
        SmokeReport r = Verify.run(opts(dir));
        assertThat(r.passed()).isFalse();
        assertThat(r.firstFailure().orElseThrow().detail()).contains("model.extra.weight");
    }

    @Test
    void missingTensorFails() throws Exception {
        Path dir = model("m", 1);
        rewrite(dir, null, "model.layers.1.mlp.up_proj.weight", null);
        SmokeReport r = Verify.run(opts(dir));
        assertThat(r.passed()).isFalse();
        assertThat(r.firstFailure().orElseThrow().detail()).contains("model.layers.1.mlp.up_proj.weight", "missing");
    }

    @Test
    void shapeDisagreeingWithConfigFails() throws Exception {
        Path dir = model("m", 1);
        rewrite(dir, null, null, "model.layers.0.mlp.down_proj.weight");
        SmokeReport r = Verify.run(opts(dir));
        assertThat(r.passed()).isFalse();
        assertThat(r.firstFailure().orElseThrow().detail()).contains("down_proj", "config.json implies");
    }

    @Test
    void referenceComparisonPassesForACopyAndFailsForOtherWeights() throws Exception {
        Path a = model("a", 1);
        Path copy = model("copy", 1);
        Path other = model("other", 99);
        SmokeReport same = Verify.run(opts(a).withReference(copy, Verify.Thresholds.EXACT));
        assertThat(same.passed()).isTrue();
        assertThat(same.comparison().orElseThrow().maxAbsLogitDelta()).isZero();
        assertThat(same.comparison().orElseThrow().top1Agreement()).isEqualTo(1.0);

        SmokeReport diff = Verify.run(opts(a).withReference(other, Verify.Thresholds.EXACT));
        assertThat(diff.passed()).isFalse();
        assertThat(diff.comparison().orElseThrow().maxAbsLogitDelta()).isGreaterThan(0.1);
        assertThat(diff.comparison().orElseThrow().meanKl()).isGreaterThan(1e-3);
    }

    @Test
    void halfPrecisionCopyAgreesWithinFp16Rounding() throws Exception {
        Path f32 = model("f32", 3);
        Path f16 = tmp.resolve("f16");
        var s = TinyModels.LlamaSpec.small();
        TinyModels.writeLlama(f16, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.tied(), "F16", null, s.ropeTheta(), 3));
        SmokeReport r = Verify.run(new Verify.Options(f16, new Reference.Model(f32), "cpu", "f16", null, null, null, null, 4,
                new Verify.Thresholds(0.05, 1.0, 1e-3)));
        assertThat(r.computeType()).isEqualTo("float16");
        assertThat(r.passed()).as(ReportFormats.summary(r)).isTrue();
        assertThat(r.comparison().orElseThrow().maxAbsLogitDelta()).isGreaterThan(0);
    }

    @Test
    void bf16WeightsComputedInF16AreNarrowedAndRangeChecked() throws Exception {
        Path f32 = model("f32", 4);
        Path bf16 = tmp.resolve("bf16");
        var s = TinyModels.LlamaSpec.small();
        Map<String, float[]> w = TinyModels.writeLlama(bf16, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(),
                s.heads(), s.kvHeads(), s.tied(), "BF16", null, s.ropeTheta(), 4));
        SmokeReport r = Verify.run(new Verify.Options(bf16, new Reference.Model(f32), "cpu", "f16", null, null, null, null, 4,
                Verify.Thresholds.ROUNDED));
        assertThat(r.computeType()).isEqualTo("float16");
        assertThat(r.passed()).as(ReportFormats.summary(r)).isTrue();

        Map<String, SafetensorsBytes.Tensor> t = new LinkedHashMap<>();
        try (CheckpointSource src = CheckpointSource.open(bf16)) {
            for (var info : src.tensors()) {
                float[] v = w.get(info.name()).clone();
                if (info.name().equals("model.layers.0.mlp.up_proj.weight")) {
                    v[3] = 1e6f; // fine in BF16, infinite in F16
                }
                t.put(info.name(), new SafetensorsBytes.Tensor(info.shape().dims(), v));
            }
        }
        SafetensorsBytes.write(bf16.resolve("model.safetensors"), t, "BF16");
        SmokeReport over = Verify.run(new Verify.Options(bf16, null, "cpu", "f16", null, null, null, null, 2, Verify.Thresholds.EXACT));
        assertThat(over.passed()).isFalse();
        assertThat(over.checks()).anyMatch(c -> c.name().equals("f16-range") && !c.passed() && c.detail().startsWith("1 BF16"));
        assertThat(Verify.run(new Verify.Options(bf16, null, "cpu", "f32", null, null, null, null, 2, Verify.Thresholds.EXACT))
                .checks()).noneMatch(c -> c.name().equals("f16-range"));
    }

    @Test
    void reportsRenderAsJsonAndJunit() throws Exception {
        Path dir = model("m", 1);
        rewrite(dir, "model.extra.weight", null, null);
        SmokeReport r = Verify.run(opts(dir));
        JsonNode json = new ObjectMapper().readTree(ReportFormats.jsonText(r));
        assertThat(json.get("passed").asBoolean()).isFalse();
        assertThat(json.get("checks").size()).isEqualTo(r.checks().size());
        assertThat(json.get("generatedIds").size()).isEqualTo(4);
        String xml = ReportFormats.junitXml(r);
        assertThat(xml).contains("<testsuite name=\"ckpt-verify\"", "failures=\"1\"", "<failure message=\"", "model.extra.weight");
        var doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new java.io.ByteArrayInputStream(xml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(r.checks().size());
    }

    /** A tensor name with a newline and a terminal escape stays inert in the terminal summary and valid in JUnit XML. */
    @Test
    void reportsQuoteHostileTensorNamesSafely() throws Exception {
        Path dir = model("m", 1);
        rewrite(dir, "model.extra\u001b[2J\nx.weight", null, null);
        SmokeReport r = Verify.run(opts(dir));
        String summary = ReportFormats.summary(r);
        assertThat(summary).contains("model.extra?[2J?x.weight");
        assertThat(summary.lines()).allMatch(l -> l.codePoints().noneMatch(Character::isISOControl));
        String xml = ReportFormats.junitXml(r);
        javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new java.io.ByteArrayInputStream(xml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void unreadableInputsAreFormatErrors() throws Exception {
        Path dir = model("m", 1);
        Files.writeString(dir.resolve("model.safetensors"), "garbage!");
        assertThatThrownBy(() -> Verify.run(opts(dir))).isInstanceOf(FormatException.class).hasMessageContaining("header");
        Path noConfig = model("n", 1);
        Files.delete(noConfig.resolve("config.json"));
        assertThatThrownBy(() -> Verify.run(opts(noConfig))).isInstanceOf(FormatException.class).hasMessageContaining("config.json");
        Path mpt = model("mpt", 1);
        Files.writeString(mpt.resolve("config.json"), "{\"architectures\":[\"MPTForCausalLM\"],\"model_type\":\"mpt\"}");
        assertThatThrownBy(() -> Verify.run(opts(mpt))).isInstanceOf(FormatException.class).hasMessageContaining("unsupported architecture");
    }

    @Test
    void badDeviceIsAUsageError() throws Exception {
        Path dir = model("m", 1);
        assertThatThrownBy(() -> Verify.run(new Verify.Options(dir, null, "gpu:7", "auto", null, null, null, null, 1,
                Verify.Thresholds.EXACT))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PYTORCH_LIBRARY_PATH");
        assertThatThrownBy(() -> Verify.run(new Verify.Options(dir, null, "tpu", "auto", null, null, null, null, 1,
                Verify.Thresholds.EXACT))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--device");
    }
}

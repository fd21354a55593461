package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU path (skipped unless the PyTorch engine sees a CUDA device, see docs/verify.md "GPU"):
 * tiny F16 and BF16 models on {@code gpu} (F16 and F32 compute) give the CPU F32 run's tokens and
 * logits within fp16 rounding; a tiny LLaVA runs on {@code gpu:0}.
 */
@Tag("gpu")
class GpuVerifyTest {
    @TempDir
    Path tmp;

    @Test
    void gpuRunAgreesWithCpuRun() throws Exception {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() > 0, "no CUDA device visible to the PyTorch engine");
        Path f16 = tmp.resolve("f16");
        var s = TinyModels.LlamaSpec.small();
        TinyModels.writeLlama(f16, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.tied(), "F16", null, s.ropeTheta(), 8));
        Path bf16 = tmp.resolve("bf16");
        TinyModels.writeLlama(bf16, new TinyModels.LlamaSpec(s.hidden(), s.intermediate(), s.layers(), s.heads(), s.kvHeads(),
                s.tied(), "BF16", null, s.ropeTheta(), 9));
        for (Path model : new Path[] {f16, bf16}) {
            var cpu = Verify.runWithLogits(new Verify.Options(model, null, "cpu", "f32", null, null, null, null, 4, Verify.Thresholds.EXACT));
            var gpu = Verify.runWithLogits(new Verify.Options(model, null, "gpu", "auto", null, null, null, null, 4, Verify.Thresholds.EXACT));
            assertThat(gpu.report().device()).startsWith("gpu");
            assertThat(gpu.report().passed()).as(ReportFormats.summary(gpu.report())).isTrue();
            var c = LogitComparison.compare("cpu", gpu.logits(), cpu.logits());
            assertThat(c.maxAbsLogitDelta()).isLessThan(0.05);
            assertThat(gpu.report().generatedIds()).isEqualTo(cpu.report().generatedIds());
        }
        Path llava = tmp.resolve("llava");
        TinyModels.writeLlava(llava, s, TinyModels.ClipSpec.small(), true, null);
        SmokeReport r = Verify.run(new Verify.Options(llava, null, "gpu:0", "f32", null, null, null, null, 3, Verify.Thresholds.EXACT));
        assertThat(r.passed()).as(ReportFormats.summary(r)).isTrue();
    }
}

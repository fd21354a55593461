package dev.ckpt.tools.demo;

import dev.ckpt.tools.ops.plan.PlanReport;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.ops.ApplyDelta;
import dev.ckpt.tools.ops.MakeDelta;
import java.nio.file.Path;

/**
 * make-delta then apply-delta on the demo model: a "fine-tune" (same architecture, other seed) is
 * turned into a delta against the demo model and rebuilt from it; reports how many elements came
 * back bit-exact (the rest differ by fp rounding of the stored delta, see docs/make-delta.md).
 */
public final class DeltaStep implements DemoStep {
    @Override
    public String name() {
        return "make-delta + apply-delta round trip";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path target = ctx.workDir().resolve("tiny-llama-finetuned");
        SyntheticLlama.write(target, SyntheticLlama.Options.tiny().withSeed(4242));
        WriteOptions w = WriteOptions.defaults();
        Path delta = ctx.workDir().resolve("delta");
        Path rebuilt = ctx.workDir().resolve("rebuilt");
        PlanReport made = MakeDelta.run(new MakeDelta.Options(ctx.model(), target, delta, false, false, w), ProgressListener.NONE);
        ApplyDelta.run(new ApplyDelta.Options(ctx.model(), delta, rebuilt, false, false, w), ProgressListener.NONE);
        ctx.artifacts().put("delta", delta);
        ctx.artifacts().put("rebuilt", rebuilt); // verified against model + delta in f32 by VerifyStep
        long exact = 0;
        long total = 0;
        double maxErr = 0;
        try (Checkpoint t = Checkpoint.open(target); Checkpoint r = Checkpoint.open(rebuilt)) {
            for (TensorInfo info : t.tensors()) {
                float[] a = decode(t.view(info.name()));
                float[] b = decode(r.view(info.name()));
                for (int i = 0; i < a.length; i++) {
                    exact += Float.floatToRawIntBits(a[i]) == Float.floatToRawIntBits(b[i]) ? 1 : 0;
                    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
                }
                total += a.length;
            }
        }
        return String.format(java.util.Locale.ROOT, "%d tensors in the delta; rebuilt %d/%d elements bit-exact (%.1f %%),"
                + " max |error| %.2e (one rounding of the stored delta)", made.plan().tensors().size(), exact, total,
                100.0 * exact / total, maxErr);
    }

    private static float[] decode(TensorView v) {
        float[] out = new float[Math.toIntExact(v.info().elementCount())];
        FloatCodec.decode(v.data(), 0, v.info().dtype(), out, 0, out.length);
        return out;
    }
}

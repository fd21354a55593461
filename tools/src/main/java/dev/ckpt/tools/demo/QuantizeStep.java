package dev.ckpt.tools.demo;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.tools.gguf.GgufExport;
import dev.ckpt.tools.gguf.LlamaNames;
import dev.ckpt.tools.gguf.RopePermutation;
import dev.ckpt.tools.gguf.RowSource;
import dev.ckpt.tools.quant.QuantType;
import java.nio.file.Path;

/**
 * Quantizes the demo model to a Q8_0 GGUF (artifact {@code "q8_0.gguf"}) and verifies it against the
 * source: every tensor dequantized (Q/K permutation undone) is within Q8_0's rounding of the original.
 */
public final class QuantizeStep implements DemoStep {
    @Override
    public String name() {
        return "quantize to GGUF Q8_0";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path out = ctx.workDir().resolve("llama-Q8_0.gguf");
        int tensors;
        double worst = 0;
        try (Checkpoint ck = Checkpoint.open(ctx.model())) {
            GgufExport.Plan plan = GgufExport.fromCheckpoint(ck, GgufExport.OutType.AUTO, QuantType.Q8_0);
            GgufExport.write(plan, out, false, 0);
            tensors = plan.tensors().size();
            int heads = ck.config().orElseThrow().get("num_attention_heads").asInt();
            int kvHeads = ck.config().orElseThrow().path("num_key_value_heads").asInt(heads);
            try (GgufFile f = GgufFile.open(out)) {
                for (GgufTensorInfo t : f.ggufTensors()) {
                    TensorInfo src = ck.tensor(LlamaNames.toHf(t.name()).orElseThrow()).orElseThrow();
                    RowSource rows = RowSource.ofGguf(t, f.bytes(t.name()));
                    if (t.name().matches("blk\\.\\d+\\.attn_[qk]\\.weight")) {
                        RopePermutation p = new RopePermutation(t.rowCount(), t.name().contains("attn_q") ? heads : kvHeads);
                        rows = rows.reordered(p::inverseSourceOf);
                    }
                    float[] got = new float[rows.rowLength()];
                    float[] want = new float[rows.rowLength()];
                    long rowBytes = src.dtype().byteSizeFor(rows.rowLength());
                    for (long r = 0; r < rows.rows(); r++) {
                        rows.read(r, got);
                        FloatCodec.decode(ck.view(src.name()).data(), r * rowBytes, src.dtype(), want, 0, want.length);
                        double amax = 0;
                        double err = 0;
                        for (int i = 0; i < got.length; i++) {
                            amax = Math.max(amax, Math.abs(want[i]));
                            err = Math.max(err, Math.abs(want[i] - got[i]));
                        }
                        double rel = amax == 0 ? err : err / amax;
                        if (rel > 0.01 && t.type().isQuantized()) {
                            throw new IllegalStateException(t.name() + " row " + r + ": relative error " + rel + " exceeds Q8_0's");
                        }
                        if (t.type().isQuantized() || src.dtype() == DType.F32) {
                            worst = Math.max(worst, rel);
                        }
                    }
                }
            }
        }
        ctx.artifacts().put("q8_0.gguf", out);
        return String.format(java.util.Locale.ROOT, "%d tensors, llama.cpp's Q8_0 mix; dequantized vs source: max relative error %.4f",
                tensors, worst);
    }
}

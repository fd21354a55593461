package dev.ckpt.tools.demo;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.Convert;
import java.nio.file.Path;
import java.util.Optional;

/** Converts the demo model to f16 (artifact {@code "f16"}). */
public final class ConvertStep implements DemoStep {
    @Override
    public String name() {
        return "convert to f16";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path out = ctx.workDir().resolve("llama-f16");
        Convert.Report r = Convert.run(new Convert.Options(ctx.model(), out, Optional.of(DType.F16),
                WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 0), ProgressListener.NONE);
        ctx.artifacts().put("f16", out);
        return r.convertedTensors() + "/" + r.tensorCount() + " tensors converted, " + r.write().weightFiles().size()
                + " shard(s), " + r.write().sideFiles().size() + " side files copied, torch_dtype=float16";
    }
}

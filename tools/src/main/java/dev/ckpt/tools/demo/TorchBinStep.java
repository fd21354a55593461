package dev.ckpt.tools.demo;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.formats.synthetic.SyntheticTorchBin;
import dev.ckpt.tools.ops.Convert;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Writes the demo model as sharded PyTorch {@code .bin} files, converts them to safetensors, and
 * checks every tensor is byte-identical to the demo model's safetensors (artifact {@code "bin"}).
 */
public final class TorchBinStep implements DemoStep {
    @Override
    public String name() {
        return ".bin -> safetensors";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path bin = ctx.workDir().resolve("llama-bin");
        int shards = SyntheticTorchBin.write(bin, SyntheticLlama.Options.tiny()).size();
        Path out = ctx.workDir().resolve("llama-from-bin");
        Convert.Report r = Convert.run(new Convert.Options(bin, out, Optional.empty(), WriteOptions.DEFAULT_MAX_SHARD_BYTES,
                false, 0), ProgressListener.NONE);
        ctx.artifacts().put("bin", bin);
        try (Checkpoint converted = Checkpoint.open(out); Checkpoint model = Checkpoint.open(ctx.model())) {
            for (TensorInfo t : model.tensors()) {
                if (converted.view(t.name()).data().mismatch(model.view(t.name()).data()) != -1) {
                    throw new IllegalStateException("tensor " + t.name() + " differs after .bin -> safetensors");
                }
            }
        }
        return shards + " torch.save shards read without running their pickle, " + r.tensorCount()
                + " tensors written to safetensors, all byte-identical to the source model";
    }
}

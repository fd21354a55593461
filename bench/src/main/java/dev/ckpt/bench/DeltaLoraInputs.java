package dev.ckpt.bench;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Inputs for bench/run-delta.sh and bench/run-lora.sh.
 * <pre>
 *   model DIR BYTES SEED        a synthetic bf16 Llama of about BYTES (SyntheticLlama.ofSize, 2 GB shards)
 *   lora BASE ADAPTER_DIR RANK  a PEFT adapter (bf16 factors, alpha = 2·rank) on all 7 linear layers of BASE
 * </pre>
 */
public final class DeltaLoraInputs {
    private DeltaLoraInputs() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 4 && args[0].equals("model")) {
            var o = SyntheticLlama.Options.ofSize(Long.parseLong(args[2]), 2_000_000_000L).withSeed(Long.parseLong(args[3]));
            SyntheticLlama.write(Path.of(args[1]), o, 0, ProgressListener.NONE);
        } else if (args.length == 4 && args[0].equals("lora")) {
            writeAdapter(Path.of(args[1]), Path.of(args[2]), Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: model DIR BYTES SEED | lora BASE ADAPTER_DIR RANK");
            System.exit(2);
        }
    }

    private static void writeAdapter(Path base, Path dir, int rank) throws IOException {
        List<PlannedTensor> tensors = new ArrayList<>();
        try (Checkpoint c = Checkpoint.open(base)) {
            for (TensorInfo t : c.tensors()) {
                String n = t.name();
                if (n.matches(".*\\.(q|k|v|o|gate|up|down)_proj\\.weight")) {
                    String m = "base_model.model." + n.substring(0, n.length() - ".weight".length());
                    tensors.add(random(m + ".lora_A.weight", rank, t.shape().dim(1), n.hashCode()));
                    tensors.add(random(m + ".lora_B.weight", t.shape().dim(0), rank, ~n.hashCode()));
                }
            }
        }
        Path parts = dir.resolveSibling(dir.getFileName() + ".parts");
        CheckpointWriter.write(parts, tensors, List.of(), new WriteOptions(Long.MAX_VALUE, false, 0), ProgressListener.NONE);
        Files.createDirectories(dir);
        Files.move(parts.resolve("model.safetensors"), dir.resolve("adapter_model.safetensors"));
        try (var s = Files.list(parts)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(parts);
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":" + rank + ",\"lora_alpha\":"
                + 2 * rank + ",\"target_modules\":[\"q_proj\",\"k_proj\",\"v_proj\",\"o_proj\",\"gate_proj\",\"up_proj\",\"down_proj\"]}");
    }

    private static PlannedTensor random(String name, long rows, long cols, long seed) {
        TensorInfo info = new TensorInfo(name, DType.BF16, Shape.of(rows, cols));
        return new PlannedTensor(info, SyntheticLlama.uniform(DType.BF16, info.elementCount(), seed, 0f, 0.02f));
    }
}

package dev.ckpt.formats.synthetic;

import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ShardPlan;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.torch.TorchSaveWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@link SyntheticLlama} model written the way {@code save_pretrained(safe_serialization=False)}
 * wrote models before safetensors: {@code pytorch_model-0000k-of-0000n.bin} shards in torch.save's
 * zip layout (or one {@code pytorch_model.bin}), {@code pytorch_model.bin.index.json}, and the same
 * side files. Tensor values are identical to the safetensors variant with the same options, so a
 * converted copy can be compared byte for byte. Streams each tensor into the mapped output: memory
 * stays bounded whatever the size (used by benchmarks and tests).
 */
public final class SyntheticTorchBin {
    /** The index file name transformers writes next to sharded .bin checkpoints. */
    public static final String INDEX_NAME = "pytorch_model.bin.index.json";

    private SyntheticTorchBin() {
    }

    /** Writes the model into {@code outDir}, which must not exist; returns the shard files written. */
    public static List<Path> write(Path outDir, SyntheticLlama.Options o) throws IOException {
        Files.createDirectories(outDir.getParent() == null ? Path.of(".") : outDir.getParent());
        Files.createDirectory(outDir);
        List<PlannedTensor> plan = SyntheticLlama.tensors(o);
        Map<String, PlannedTensor> byName = new HashMap<>();
        plan.forEach(p -> byName.put(p.info().name(), p));
        long max = o.shardCount() > 0 ? SyntheticLlama.maxShardBytesFor(plan.stream().map(PlannedTensor::info).toList(),
                o.shardCount()) : o.maxShardBytes();
        List<List<TensorInfo>> shards = ShardPlan.greedy(plan.stream().map(PlannedTensor::info).toList(), max);
        Map<String, String> weightMap = new LinkedHashMap<>();
        List<Path> files = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String base = shards.size() == 1 ? "pytorch_model"
                    : String.format(Locale.ROOT, "pytorch_model-%05d-of-%05d", i + 1, shards.size());
            TorchSaveWriter w = new TorchSaveWriter(base);
            for (TensorInfo t : shards.get(i)) {
                w.tensor(t.name(), t.dtype(), t.shape().dims(), byName.get(t.name()).recipe());
                weightMap.put(t.name(), base + ".bin");
                total += t.byteSize();
            }
            Path file = outDir.resolve(base + ".bin");
            w.write(file);
            files.add(file);
        }
        if (shards.size() > 1) {
            StringBuilder json = new StringBuilder("{\n  \"metadata\": {\n    \"total_size\": " + total
                    + "\n  },\n  \"weight_map\": {\n");
            int n = 0;
            for (var e : weightMap.entrySet()) {
                json.append("    \"").append(e.getKey()).append("\": \"").append(e.getValue()).append('"')
                        .append(++n < weightMap.size() ? ",\n" : "\n");
            }
            Files.writeString(outDir.resolve(INDEX_NAME), json.append("  }\n}\n"));
        }
        for (SideFile s : SyntheticLlama.sideFiles(o)) {
            if (s instanceof SideFile.Bytes b) {
                Files.write(outDir.resolve(b.name()), b.content());
            }
        }
        return files;
    }
}

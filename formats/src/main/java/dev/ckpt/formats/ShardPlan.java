package dev.ckpt.formats;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits tensors into shards the way Hugging Face does: in order, start a new shard when adding the
 * next tensor would exceed the limit; a tensor larger than the limit gets a shard of its own.
 */
public final class ShardPlan {
    private ShardPlan() {
    }

    /** Groups {@code tensors} (kept in order) into shards of at most {@code maxShardBytes} tensor bytes each. */
    public static List<List<TensorInfo>> greedy(List<TensorInfo> tensors, long maxShardBytes) {
        List<List<TensorInfo>> shards = new ArrayList<>();
        List<TensorInfo> current = new ArrayList<>();
        long size = 0;
        for (TensorInfo t : tensors) {
            long b = t.byteSize();
            if (!current.isEmpty() && size + b > maxShardBytes) {
                shards.add(List.copyOf(current));
                current = new ArrayList<>();
                size = 0;
            }
            current.add(t);
            size += b;
        }
        if (!current.isEmpty() || shards.isEmpty()) {
            shards.add(List.copyOf(current));
        }
        return List.copyOf(shards);
    }

    /** Shard file name: {@code model.safetensors} when alone, else {@code model-0000k-of-0000n.safetensors}. */
    public static String shardName(int index, int count) {
        return count == 1 ? "model.safetensors" : String.format("model-%05d-of-%05d.safetensors", index + 1, count);
    }

    /** Name of the index file written beside sharded weights. */
    public static final String INDEX_NAME = "model.safetensors.index.json";
}

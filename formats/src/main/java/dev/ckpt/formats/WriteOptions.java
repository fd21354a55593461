package dev.ckpt.formats;

/**
 * How {@link CheckpointWriter} writes.
 *
 * @param maxShardBytes largest shard in tensor bytes (a bigger tensor gets a shard of its own); must be positive
 * @param force replace an existing output directory
 * @param threads tensors computed in parallel; 0 means one per available processor
 */
public record WriteOptions(long maxShardBytes, boolean force, int threads) {
    /** Hugging Face's default shard limit: 5 GB, decimal. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    public WriteOptions {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive: " + maxShardBytes);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0: " + threads);
        }
    }

    /** 5 GB shards, no force, one thread per processor. */
    public static WriteOptions defaults() {
        return new WriteOptions(DEFAULT_MAX_SHARD_BYTES, false, 0);
    }

    /** The worker count to use: {@link #threads} or the processor count when 0. */
    public int effectiveThreads() {
        return threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
    }

    public WriteOptions withForce(boolean value) {
        return new WriteOptions(maxShardBytes, value, threads);
    }

    public WriteOptions withMaxShardBytes(long value) {
        return new WriteOptions(value, force, threads);
    }

    public WriteOptions withThreads(int value) {
        return new WriteOptions(maxShardBytes, force, value);
    }
}

package dev.ckpt.tools.cli;

import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.ByteSize;
import picocli.CommandLine.Option;

/** Options shared by the plan-and-write operations (apply-delta, make-delta, merge-lora). */
public final class PlanOutputOptions {
    @Option(names = "--dry-run", description = "check the inputs and print the plan; write nothing")
    boolean dryRun;

    @Option(names = "--force", description = "replace --out if it exists")
    boolean force;

    @Option(names = "--max-shard-size", defaultValue = "5GB", description = "largest shard (5GB decimal, or 2GiB); default ${DEFAULT-VALUE}")
    String maxShardSize;

    @Option(names = "--threads", defaultValue = "0", description = "tensors computed in parallel (0: all cores)")
    int threads;

    @Option(names = "--json", description = "print the plan / result as JSON on stdout")
    boolean json;

    /** The writer options, or a usage error. */
    WriteOptions writeOptions() {
        try {
            return new WriteOptions(ByteSize.parse(maxShardSize), force, threads);
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage());
        }
    }
}

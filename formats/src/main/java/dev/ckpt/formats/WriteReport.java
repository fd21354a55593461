package dev.ckpt.formats;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What {@link CheckpointWriter#write} produced.
 *
 * @param outDir the output directory, now in place
 * @param weightFiles the shard files in order (final paths)
 * @param sideFiles the side files written (final paths)
 * @param tensorCount tensors written
 * @param tensorBytes sum of tensor byte sizes (the index's {@code total_size})
 * @param elapsed wall time of the write
 */
public record WriteReport(Path outDir, List<Path> weightFiles, List<Path> sideFiles, int tensorCount,
                          long tensorBytes, Duration elapsed) {
    public WriteReport {
        weightFiles = List.copyOf(weightFiles);
        sideFiles = List.copyOf(sideFiles);
    }
}

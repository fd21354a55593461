package dev.ckpt.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Peak resident set size of this process (Linux {@code VmHWM}); -1 where unavailable. */
final class PeakMemory {
    private PeakMemory() {
    }

    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1; // not Linux: the report says "unknown"
        }
        return -1;
    }
}

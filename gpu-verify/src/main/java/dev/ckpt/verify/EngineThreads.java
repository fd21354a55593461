package dev.ckpt.verify;

import java.lang.management.ManagementFactory;

/**
 * Chooses the PyTorch engine's intra-op thread count before the engine starts. When the caller
 * set {@code ai.djl.pytorch.num_threads} (the CLI's {@code --threads}) that wins; otherwise, when
 * the machine is already busy (1-minute load average at or above the core count), one thread:
 * OpenMP workers spin-waiting for each other on oversubscribed cores made decoding 5-20x slower
 * in our measurements (docs/benchmarks.md). Has no effect once the engine has started.
 */
final class EngineThreads {
    static final String PROPERTY = "ai.djl.pytorch.num_threads";

    private EngineThreads() {
    }

    static void configure() {
        if (System.getProperty(PROPERTY) != null || System.getenv("OMP_NUM_THREADS") != null) {
            return;
        }
        var os = ManagementFactory.getOperatingSystemMXBean();
        double load = os.getSystemLoadAverage();
        if (load >= os.getAvailableProcessors()) {
            System.setProperty(PROPERTY, "1");
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }
}

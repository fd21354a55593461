package dev.ckpt.tools.ops.kernel;

/**
 * Whether the Vector API kernels ({@link LowRankVector}) may run: only when the JVM was started
 * with {@code --add-modules jdk.incubator.vector} (the launcher does for merge-lora; surefire does
 * for the tests). Without it every kernel runs its plain-Java loops, with bit-identical results. {@code -Dckpt.vector=false} forces the
 * plain loops.
 *
 * <p>Not used for apply-/make-delta: a Vector API bf16 add kernel measured 8x the plain loops once
 * compiled (3.4 vs 0.44 G elements/s), but the Vector API runs ~1000x slower until C2 has compiled
 * it, and that warm-up (1-3 s on the shared 2-core machine) ate the gain of a few-second run.
 */
final class Simd {
    /** True when the Vector API kernels are used. */
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
            && !"false".equals(System.getProperty("ckpt.vector"));

    private Simd() {
    }
}

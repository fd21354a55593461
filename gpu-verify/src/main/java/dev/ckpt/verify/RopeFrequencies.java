package dev.ckpt.verify;

/**
 * RoPE inverse frequencies as transformers computes them: {@code theta^(-2j/d)} in F32, with the
 * dynamic-NTK base rescaling of {@code LlamaDynamicNTKScalingRotaryEmbedding} when the sequence
 * outgrows {@code max_position_embeddings}. Linear scaling divides positions instead (caller).
 */
final class RopeFrequencies {
    private RopeFrequencies() {
    }

    static float[] inverse(LlamaConfig cfg, int sequenceLength) {
        int d = cfg.headDim();
        double base = cfg.ropeTheta();
        if (cfg.ropeScalingType().equals("dynamic") && sequenceLength > cfg.maxPositions()) {
            double f = cfg.ropeScalingFactor();
            base = base * Math.pow(f * sequenceLength / cfg.maxPositions() - (f - 1), (double) d / (d - 2));
        }
        float[] inv = new float[d / 2];
        for (int j = 0; j < d / 2; j++) {
            float exponent = (float) (2 * j) / d;
            inv[j] = (float) (1.0 / Math.pow((float) base, exponent));
        }
        return inv;
    }
}

package dev.ckpt.tools.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.ckpt.formats.gguf.GgmlType;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The K-quant searches run over all sub-blocks of one codec call as lanes ({@link QxLanes},
 * {@link Qkx2Lanes}), with scalar fallbacks for NaN/infinite input: the bytes must not depend on how
 * many blocks one call gets, nor on non-finite blocks elsewhere in the call.
 */
class LaneSearchTest {
    @ParameterizedTest
    @EnumSource(names = {"Q4_K", "Q5_K", "Q6_K", "Q4_0"})
    void bytesDoNotDependOnBatchingOrOnNonFiniteNeighbours(GgmlType type) throws IOException {
        float[] golden = GoldenVectorsTest.input(type);
        byte[] expected = GoldenVectorsTest.resource(type + ".bin");
        int bs = type.blockSize();
        int ts = (int) type.typeSize();
        int blocks = golden.length / bs;
        // append blocks with a NaN, +inf and -inf (and their llama.cpp-compatible scalar treatment)
        float[] x = Arrays.copyOf(golden, golden.length + 3 * bs);
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < bs; i++) {
                x[golden.length + k * bs + i] = (float) Math.sin(i * 0.7 + k) * 0.03f;
            }
        }
        x[golden.length + 5] = Float.NaN;
        x[golden.length + bs + 17 % bs] = Float.POSITIVE_INFINITY;
        x[golden.length + 2 * bs + 40 % bs] = Float.NEGATIVE_INFINITY;
        BlockCodec codec = BlockCodec.of(type);
        int total = x.length / bs;
        byte[] whole = new byte[total * ts];
        codec.quantize(x, 0, x.length, whole, 0);
        byte[] perBlock = new byte[total * ts];
        for (int b = 0; b < total; b++) {
            codec.quantize(x, b * bs, bs, perBlock, b * ts);
        }
        byte[] uneven = new byte[total * ts];
        for (int b = 0, step = 1; b < total; b += step, step = step % 7 + 1) {
            int k = Math.min(step, total - b);
            codec.quantize(x, b * bs, k * bs, uneven, b * ts);
        }
        assertArrayEquals(perBlock, whole, type + ": one call vs one call per block");
        assertArrayEquals(perBlock, uneven, type + ": uneven batches vs one call per block");
        assertArrayEquals(expected, Arrays.copyOf(whole, blocks * ts), type + ": golden blocks in a call with non-finite blocks");
    }
}

package dev.ckpt.tools.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ckpt.formats.gguf.GgmlType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compares every codec with block bytes produced by llama.cpp's own reference quantizers
 * (resources golden/quant, see its README for the recipe): byte-for-byte, block by block.
 */
class GoldenVectorsTest {
    static byte[] resource(String name) throws IOException {
        try (InputStream in = GoldenVectorsTest.class.getResourceAsStream("/golden/quant/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource golden/quant/" + name);
            }
            return in.readAllBytes();
        }
    }

    static float[] input(GgmlType t) throws IOException {
        byte[] b = resource(t.blockSize() == 256 ? "input-256.f32" : "input-32.f32");
        float[] x = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void quantizeMatchesLlamaCppReference(GgmlType type) throws IOException {
        float[] x = input(type);
        byte[] expected = resource(type + ".bin");
        BlockCodec codec = BlockCodec.of(type);
        byte[] got = new byte[expected.length];
        codec.quantize(x, 0, x.length, got, 0);
        for (int i = 0; i < got.length; i++) {
            if (got[i] != expected[i]) {
                int block = i / type.typeSize();
                fail(type + ": block " + block + " byte " + (i % type.typeSize()) + " is " + (got[i] & 0xFF)
                        + ", llama.cpp wrote " + (expected[i] & 0xFF));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    void dequantizeIsCloseAndStable(GgmlType type) throws IOException {
        float[] x = input(type);
        BlockCodec codec = BlockCodec.of(type);
        byte[] q = new byte[x.length / type.blockSize() * type.typeSize()];
        codec.quantize(x, 0, x.length, q, 0);
        float[] y = new float[x.length];
        codec.dequantize(q, 0, x.length, y, 0);
        // relative error per block against the block's range, loose bound per type bit width
        double bound = switch (type) {
            case Q8_0 -> 0.01;
            case Q6_K -> 0.05;
            case Q5_0, Q5_1, Q5_K -> 0.1;
            default -> 0.2;
        };
        int bs = type.blockSize();
        for (int b = 0; b < x.length / bs; b++) {
            double amax = 0;
            double err = 0;
            for (int i = b * bs; i < (b + 1) * bs; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
                err = Math.max(err, Math.abs(x[i] - y[i]));
            }
            if (amax > 1e-4) {
                assertTrue(err <= bound * amax + 128 * 6e-8, type + " block " + b + ": max error " + err + " vs amax " + amax);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void primitivesFollowC() {
        assertEquals(2, QuantPrimitives.nearestInt(2.5f));
        assertEquals(4, QuantPrimitives.nearestInt(3.5f));
        assertEquals(-2, QuantPrimitives.nearestInt(-2.5f));
        assertEquals(-3, QuantPrimitives.roundf(-2.5f));
        assertEquals(3, QuantPrimitives.roundf(2.5f));
        assertEquals(0, QuantPrimitives.roundf(0.49999997f));
        assertEquals((short) 0x7E00, QuantPrimitives.fp16(Float.NaN));
        assertEquals((short) 0x0001, QuantPrimitives.fp16(5.9604645e-8f));
        assertEquals((short) 0x7C00, QuantPrimitives.fp16(70000f));
    }
}

package dev.ckpt.tools.ops.kernel;

import static dev.ckpt.tools.ops.Fixtures.T;
import static dev.ckpt.tools.ops.Fixtures.shape;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.RangeRecipe;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.tools.ops.Fixtures;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeltaRecipeTest {
    @TempDir
    Path tmp;

    private static final int COLS = 1000;
    /** The base ends inside the third chunk of the recipe (131,000 elements, chunks of 65,536). */
    private static final int BASE_ROWS = 131;
    private static final int OTHER_ROWS = 140;

    /** Every dtype mix, the top-left block rule across chunk boundaries, ranges of odd sizes as a writer asks for them. */
    @Test
    void matchesTheScalarReferenceForEveryDtypeMix() throws IOException {
        DType[][] mixes = {
            {DType.BF16, DType.BF16}, {DType.F16, DType.F16}, {DType.F32, DType.F32},
            {DType.F32, DType.BF16}, {DType.BF16, DType.F32}, {DType.F16, DType.BF16},
        };
        for (DType[] mix : mixes) {
            for (DeltaKernel.Op op : DeltaKernel.Op.values()) {
                Path dir = tmp.resolve(mix[0] + "-" + mix[1] + "-" + op);
                Path base = Fixtures.write(dir.resolve("base"), null,
                        List.of(T.of("w", mix[0], shape(BASE_ROWS, COLS), values(BASE_ROWS * COLS, 1))));
                Path other = Fixtures.write(dir.resolve("other"), null,
                        List.of(T.of("w", mix[1], shape(OTHER_ROWS, COLS), values(OTHER_ROWS * COLS, 2))));
                byte[] expected = reference(base, other, op);
                try (Checkpoint bc = Checkpoint.open(base); Checkpoint oc = Checkpoint.open(other);
                     TensorRangeReader br = new TensorRangeReader(bc); TensorRangeReader or = new TensorRangeReader(oc)) {
                    TensorInfo bi = bc.tensor("w").orElseThrow();
                    TensorInfo oi = oc.tensor("w").orElseThrow();
                    byte[] got = fill(DeltaRecipe.combine(or, oi, br, bi, op), oi.byteSize());
                    assertThat(got).as("%s base, %s other, %s", mix[0], mix[1], op).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void copyConvertsOnceOrCopiesBytes() throws IOException {
        Path src = Fixtures.write(tmp.resolve("src"), null, List.of(T.of("w", DType.F32, shape(70_001), values(70_001, 3))));
        float[] v = Fixtures.read(src, "w");
        try (Checkpoint c = Checkpoint.open(src); TensorRangeReader r = new TensorRangeReader(c)) {
            TensorInfo info = c.tensor("w").orElseThrow();
            byte[] asBf16 = fill(DeltaRecipe.copy(r, info, DType.BF16), DType.BF16.byteSizeFor(v.length));
            assertThat(asBf16).isEqualTo(encode(v, DType.BF16));
            assertThat(fill(DeltaRecipe.copy(r, info, DType.F32), info.byteSize())).isEqualTo(Fixtures.bytes(src, "w"));
        }
    }

    @Test
    void baseMustBeATopLeftBlock() throws IOException {
        Path a = Fixtures.write(tmp.resolve("a"), null, List.of(T.of("w", DType.BF16, shape(2, 3), new float[6])));
        Path b = Fixtures.write(tmp.resolve("b"), null, List.of(T.of("w", DType.BF16, shape(3, 2), new float[6])));
        try (Checkpoint ac = Checkpoint.open(a); Checkpoint bc = Checkpoint.open(b);
             TensorRangeReader ar = new TensorRangeReader(ac); TensorRangeReader br = new TensorRangeReader(bc)) {
            TensorInfo ai = ac.tensor("w").orElseThrow();
            TensorInfo bi = bc.tensor("w").orElseThrow();
            assertThatThrownBy(() -> DeltaRecipe.combine(ar, ai, br, bi, DeltaKernel.Op.ADD))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("top-left block");
        }
    }

    /** Fills a tensor through ranges of irregular sizes (multiples of the writer's alignment), in order. */
    private static byte[] fill(RangeRecipe recipe, long byteSize) throws IOException {
        Random random = new Random(11);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment all = arena.allocate(byteSize);
            for (long off = 0; off < byteSize; ) {
                long n = Math.min(byteSize - off, RangeRecipe.RANGE_ALIGNMENT * (1 + random.nextInt(40_000)));
                recipe.fillRange(off, all.asSlice(off, n));
                off += n;
            }
            return all.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    /** f32 arithmetic rounded once into the other's dtype; elements past the base are the other's bytes. */
    private static byte[] reference(Path base, Path other, DeltaKernel.Op op) throws IOException {
        float[] b = Fixtures.read(base, "w");
        float[] o = Fixtures.read(other, "w");
        DType out = Fixtures.info(other, "w").dtype();
        float[] combined = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            combined[i] = op == DeltaKernel.Op.ADD ? o[i] + b[i] : o[i] - b[i];
        }
        byte[] result = Fixtures.bytes(other, "w");
        byte[] head = encode(combined, out);
        System.arraycopy(head, 0, result, 0, head.length);
        return result;
    }

    private static byte[] encode(float[] v, DType dtype) {
        MemorySegment s = MemorySegment.ofArray(new byte[Math.toIntExact(dtype.byteSizeFor(v.length))]);
        FloatCodec.encode(v, 0, v.length, dtype, s, 0);
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    /** Mostly weights of fine-tune size, with zeros, subnormals, large values, infinities and NaNs mixed in. */
    private static float[] values(int n, long seed) {
        Random random = new Random(seed);
        float[] special = {0f, -0f, Float.MIN_VALUE, 1e-39f, 3e38f, -3e38f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextInt(50) == 0 ? special[random.nextInt(special.length)] : (float) random.nextGaussian() * 0.02f;
        }
        return v;
    }
}

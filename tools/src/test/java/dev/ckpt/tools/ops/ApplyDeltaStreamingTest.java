package dev.ckpt.tools.ops;

import static dev.ckpt.tools.ops.Fixtures.T;
import static dev.ckpt.tools.ops.Fixtures.shape;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * apply-delta and make-delta end to end on a tiny LLaVA-shaped model (grown vocab, delta-only
 * projector, an f32 norm, an f16 tensor, a rotary buffer), several shards and two writer threads,
 * against the reference computed here with the scalar codecs: f32 arithmetic, one RNE rounding per
 * element into the delta's dtype, grown rows and projector bytes as stored.
 */
class ApplyDeltaStreamingTest {
    @TempDir
    Path tmp;

    private static final int HIDDEN = 256;
    private static final int VOCAB = 1000;
    private static final int GROWN = 1003;
    /** Small shards, so the output spans several files and tensors land at unaligned offsets. */
    private static final WriteOptions W = new WriteOptions(400_000, false, 2);

    @Test
    void applyAndMakeMatchTheScalarReference() throws IOException {
        Random random = new Random(5);
        Path base = Fixtures.write(tmp.resolve("base"), Fixtures.llamaConfig(1, HIDDEN, VOCAB, 2048), List.of(
                t("model.embed_tokens.weight", DType.BF16, random, VOCAB, HIDDEN),
                t("model.layers.0.mlp.up_proj.weight", DType.BF16, random, 300, HIDDEN),
                t("model.layers.0.self_attn.o_proj.weight", DType.F16, random, HIDDEN, HIDDEN),
                t("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, random, 32),
                t("model.norm.weight", DType.F32, random, HIDDEN),
                t("lm_head.weight", DType.BF16, random, VOCAB, HIDDEN)));
        Path delta = Fixtures.write(tmp.resolve("delta"), Fixtures.llamaConfig(1, HIDDEN, GROWN, 2048), List.of(
                t("model.embed_tokens.weight", DType.BF16, random, GROWN, HIDDEN),
                t("model.layers.0.mlp.up_proj.weight", DType.BF16, random, 300, HIDDEN),
                t("model.layers.0.self_attn.o_proj.weight", DType.F16, random, HIDDEN, HIDDEN),
                t("model.layers.0.self_attn.rotary_emb.inv_freq", DType.F32, random, 32),
                t("model.norm.weight", DType.F32, random, HIDDEN),
                t("lm_head.weight", DType.BF16, random, GROWN, HIDDEN),
                t("model.mm_projector.weight", DType.BF16, random, 64, HIDDEN),
                t("model.mm_projector.bias", DType.BF16, random, 64)));
        Path out = tmp.resolve("out");
        ApplyDelta.run(new ApplyDelta.Options(base, delta, out, false, false, W), ProgressListener.NONE);
        assertMatchesReference(base, delta, out, true);

        Path made = tmp.resolve("made");
        MakeDelta.run(new MakeDelta.Options(base, out, made, false, false, W), ProgressListener.NONE);
        assertMatchesReference(base, out, made, false);
    }

    private static void assertMatchesReference(Path base, Path other, Path out, boolean apply) throws IOException {
        try (Checkpoint oc = Checkpoint.open(other); Checkpoint bc = Checkpoint.open(base); Checkpoint rc = Checkpoint.open(out)) {
            assertThat(rc.weightFiles()).hasSizeGreaterThan(1);
            List<String> names = new ArrayList<>();
            for (TensorInfo t : oc.tensors()) {
                names.add(t.name());
                assertThat(rc.tensor(t.name())).as(t.name()).contains(t);
                byte[] got = Fixtures.bytes(out, t.name());
                assertThat(got).as(t.name()).isEqualTo(expected(bc, base, other, t, apply));
            }
            assertThat(rc.tensors().stream().map(TensorInfo::name)).containsExactlyInAnyOrderElementsOf(names);
        }
    }

    private static byte[] expected(Checkpoint bc, Path base, Path other, TensorInfo t, boolean apply) throws IOException {
        byte[] stored = Fixtures.bytes(other, t.name());
        if (bc.tensor(t.name()).isEmpty()) {
            return stored; // projector: absolute values
        }
        if (apply && t.name().endsWith("inv_freq")) {
            return Fixtures.bytes(base, t.name()); // rotary buffer: the base's, never added
        }
        float[] b = Fixtures.read(base, t.name());
        float[] o = Fixtures.read(other, t.name());
        float[] r = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = apply ? o[i] + b[i] : o[i] - b[i];
        }
        MemorySegment head = MemorySegment.ofArray(new byte[Math.toIntExact(t.dtype().byteSizeFor(b.length))]);
        FloatCodec.encode(r, 0, r.length, t.dtype(), head, 0);
        byte[] h = head.toArray(ValueLayout.JAVA_BYTE);
        System.arraycopy(h, 0, stored, 0, h.length); // rows past the base keep the stored bytes
        return stored;
    }

    private static T t(String name, DType dtype, Random random, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian() * 0.02f;
        }
        return T.of(name, dtype, shape(dims), v);
    }
}

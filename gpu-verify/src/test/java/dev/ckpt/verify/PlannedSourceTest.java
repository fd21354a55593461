package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A virtual checkpoint computed by recipes verifies like the files it was computed from, and a wrong recipe is caught. */
class PlannedSourceTest {
    @TempDir
    Path tmp;

    private static Verify.Options opts(Path model) {
        return new Verify.Options(model, null, "cpu", "f32", null, null, null, null, 3, Verify.Thresholds.EXACT);
    }

    /** Opens {@code path} as recipes copying its tensors; {@code scale} multiplies q_proj of layer 0. */
    private static Verify.Opener planned(float scale) {
        return path -> {
            Checkpoint c = Checkpoint.open(path);
            List<PlannedTensor> plan = new ArrayList<>();
            for (TensorInfo t : c.tensors()) {
                boolean tamper = scale != 1f && t.name().equals("model.layers.0.self_attn.q_proj.weight");
                plan.add(new PlannedTensor(t, target -> {
                    MemorySegment src = c.view(t.name()).data();
                    target.copyFrom(src);
                    if (tamper) {
                        for (long i = 0; i < target.byteSize(); i += 4) {
                            target.set(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i,
                                    target.get(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i) * scale);
                        }
                    }
                }));
            }
            return new PlannedSource(c.root(), plan, c.config().orElseThrow(), c);
        };
    }

    @Test
    void recipesVerifyLikeTheirFiles() throws Exception {
        Path model = tmp.resolve("m");
        TinyModels.writeLlama(model, TinyModels.LlamaSpec.small());
        SmokeReport same = Verify.run(opts(model).withReference(model, Verify.Thresholds.EXACT), planned(1f));
        assertThat(same.passed()).as(same.checks().toString()).isTrue();
        assertThat(same.comparison().orElseThrow().maxAbsLogitDelta()).isZero();
        // the candidate is opened through the opener too: a tampered recipe differs from the reference file
        var opens = new java.util.concurrent.atomic.AtomicInteger();
        SmokeReport tampered = Verify.run(opts(model).withReference(new Reference.Model(model), Verify.Thresholds.EXACT),
                path -> opens.getAndIncrement() == 0 ? planned(8f).open(path) : CheckpointSource.open(path));
        assertThat(opens.get()).isEqualTo(2);
        assertThat(tampered.passed()).isFalse();
    }
}

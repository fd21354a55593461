package dev.ckpt.tools.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.numeric.Bf16;
import dev.ckpt.formats.numeric.F16;
import dev.ckpt.formats.safetensors.SafetensorsWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor bigger than the streaming buffer and the conversion chunk: every range boundary is exercised. */
class ConvertLargeTensorTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    @Test
    void everyBf16PatternSurvivesChunkBoundaries() throws Exception {
        long n = 5_000_003; // 10 MB of bf16: spans two 8 MiB stream buffers and several conversion chunks
        Path src = tmp.resolve("big.safetensors");
        SafetensorsWriter.write(src, List.of(
                new PlannedTensor(new TensorInfo("w", DType.BF16, Shape.of(n)), t -> {
                    for (long i = 0; i < n; i++) {
                        t.set(LE16, 2 * i, (short) (i * 7919));
                    }
                }),
                new PlannedTensor(new TensorInfo("ids", DType.I64, Shape.of(3)), t -> t.fill((byte) 9))), Map.of());
        Path out = tmp.resolve("out");
        Convert.Report r = Convert.run(new Convert.Options(src, out, Optional.of(DType.F16), 5_000_000_000L, false, 2),
                ProgressListener.NONE);
        assertThat(r.convertedTensors()).isEqualTo(1);
        try (Checkpoint c = Checkpoint.open(out)) {
            assertThat(c.tensor("ids").orElseThrow().dtype()).isEqualTo(DType.I64);
            MemorySegment ids = c.view("ids").data();
            for (long i = 0; i < 24; i++) {
                assertThat(ids.get(ValueLayout.JAVA_BYTE, i)).isEqualTo((byte) 9);
            }
            MemorySegment w = c.view("w").data();
            assertThat(c.tensor("w").orElseThrow().dtype()).isEqualTo(DType.F16);
            for (long i = 0; i < n; i++) {
                short expected = F16.fromFloat(Bf16.toFloat((short) (i * 7919)));
                if (w.get(LE16, 2 * i) != expected) {
                    assertThat(w.get(LE16, 2 * i)).as("element %d", i).isEqualTo(expected);
                }
            }
        }
    }
}

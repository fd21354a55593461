package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.safetensors.SafetensorsFile;
import dev.ckpt.formats.safetensors.SafetensorsWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files and tensors over 2 GiB (written sparse, so the test is cheap on disk and time). */
class LargeFileTest {
    @TempDir
    Path tmp;

    @Test
    void tensorOver2GiBIsWrittenAndViewedWhole() throws Exception {
        long n = (1L << 31) + 24; // bytes of U8
        Path f = tmp.resolve("big.safetensors");
        SafetensorsWriter.write(f, List.of(
                new PlannedTensor(new TensorInfo("small", DType.F32, Shape.of(2)), t -> t.set(ValueLayout.JAVA_BYTE, 7, (byte) 3)),
                new PlannedTensor(new TensorInfo("huge", DType.U8, Shape.of(n)), t -> {
                    t.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                    t.set(ValueLayout.JAVA_BYTE, n - 1, (byte) 2);
                })), Map.of());
        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            MemorySegment huge = sf.view("huge").data();
            assertThat(huge.byteSize()).isEqualTo(n);
            assertThat(huge.get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 1);
            assertThat(huge.get(ValueLayout.JAVA_BYTE, n - 1)).isEqualTo((byte) 2);
            assertThat(sf.view("small").data().get(ValueLayout.JAVA_BYTE, 7)).isEqualTo((byte) 3);
            assertThat(sf.tensors()).extracting(TensorInfo::name).containsExactly("small", "huge");
        }
    }
}

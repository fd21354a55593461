package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer copies a {@link FileCopyRecipe}'s file range in the kernel and never calls its fallback. */
class FileCopyRecipeTest {
    @TempDir
    Path tmp;

    @Test
    void writerCopiesTheFileRangeWithoutTheFallback() throws Exception {
        byte[] src = new byte[100_000];
        for (int i = 0; i < src.length; i++) {
            src[i] = (byte) (i * 31);
        }
        Path input = Files.write(tmp.resolve("in.bin"), src);
        RangeRecipe mustNotRun = (off, target) -> {
            throw new IOException("fallback used");
        };
        TensorInfo info = new TensorInfo("t", DType.U8, Shape.of(60_000));
        PlannedTensor t = new PlannedTensor(info, new FileCopyRecipe(new FileRange(input, 1234, 60_000), mustNotRun));
        Path out = tmp.resolve("out");
        CheckpointWriter.write(out, List.of(t), List.of(), new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 2),
                ProgressListener.NONE);
        try (Checkpoint c = Checkpoint.open(out)) {
            byte[] expected = java.util.Arrays.copyOfRange(src, 1234, 1234 + 60_000);
            assertThat(c.view("t").data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(expected);
        }
    }
}

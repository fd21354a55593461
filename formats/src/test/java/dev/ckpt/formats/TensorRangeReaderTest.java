package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Positional range reads return exactly the bytes of the tensor's mapped view. */
class TensorRangeReaderTest {
    @TempDir
    Path tmp;

    private Path writeTwoTensors() throws Exception {
        byte[] a = new byte[70_000];
        byte[] b = new byte[30_000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (byte) (i * 7 + 3);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 13 + 1);
        }
        List<PlannedTensor> plan = List.of(
                new PlannedTensor(new TensorInfo("a", DType.U8, Shape.of(a.length)), t -> MemorySegment.copy(MemorySegment.ofArray(a), 0, t, 0, a.length)),
                new PlannedTensor(new TensorInfo("b", DType.I16, Shape.of(b.length / 2)), t -> MemorySegment.copy(MemorySegment.ofArray(b), 0, t, 0, b.length)));
        Path out = tmp.resolve("ckpt");
        CheckpointWriter.write(out, plan, List.of(), new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 1), ProgressListener.NONE);
        return out;
    }

    @Test
    void rangesMatchTheViewAtAnyOffset() throws Exception {
        Path dir = writeTwoTensors();
        try (Checkpoint c = Checkpoint.open(dir); TensorRangeReader r = new TensorRangeReader(c); Arena arena = Arena.ofConfined()) {
            for (String name : List.of("a", "b")) {
                byte[] whole = c.view(name).data().toArray(ValueLayout.JAVA_BYTE);
                for (long[] range : new long[][] {{0, whole.length}, {1, 999}, {whole.length - 5, 5}, {12_345, 4096}}) {
                    MemorySegment target = arena.allocate(range[1]);
                    r.read(name, range[0], target);
                    assertThat(target.toArray(ValueLayout.JAVA_BYTE))
                            .isEqualTo(Arrays.copyOfRange(whole, (int) range[0], (int) (range[0] + range[1])));
                }
            }
        }
    }

    @Test
    void rejectsRangesOutsideTheTensorAndUnknownNames() throws Exception {
        Path dir = writeTwoTensors();
        try (Checkpoint c = Checkpoint.open(dir); TensorRangeReader r = new TensorRangeReader(c)) {
            assertThatThrownBy(() -> r.read("b", 29_999, MemorySegment.ofArray(new byte[2])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside tensor 'b'");
            assertThatThrownBy(() -> r.read("zz", 0, MemorySegment.ofArray(new byte[1])))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no tensor 'zz'");
        }
    }

    @Test
    void aFileTruncatedAfterOpeningEndsWithEofNotGarbage() throws Exception {
        Path dir = writeTwoTensors();
        Path file;
        try (var files = Files.list(dir)) {
            file = files.filter(p -> p.toString().endsWith(".safetensors")).findFirst().orElseThrow();
        }
        try (Checkpoint c = Checkpoint.open(dir); TensorRangeReader r = new TensorRangeReader(c)) {
            long tensorEnd = c.fileRange("b").orElseThrow().byteOffset() + 30_000;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(tensorEnd - 100);
            }
            assertThatThrownBy(() -> r.read("b", 29_000, MemorySegment.ofArray(new byte[1000])))
                    .isInstanceOf(EOFException.class).hasMessageContaining("changed while being read");
        }
    }
}

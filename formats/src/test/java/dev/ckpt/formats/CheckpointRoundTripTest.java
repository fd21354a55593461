package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.lang.foreign.MemorySegment;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointRoundTripTest {
    @TempDir
    Path tmp;

    @Test
    void tinyLlamaHasTwoShardsIndexAndSideFiles() throws Exception {
        Path dir = tmp.resolve("llama");
        WriteReport r = SyntheticLlama.write(dir, SyntheticLlama.Options.tiny());
        assertThat(r.weightFiles()).extracting(p -> p.getFileName().toString())
                .containsExactly("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
        assertThat(dir.resolve("model.safetensors.index.json")).exists();
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.tensors()).hasSize(2 + 9 * 2 + 1);
            assertThat(c.tensor("model.norm.weight").orElseThrow().dtype()).isEqualTo(DType.F32);
            assertThat(c.tensor("lm_head.weight").orElseThrow().dtype()).isEqualTo(DType.BF16);
            assertThat(c.config().orElseThrow().get("torch_dtype").asText()).isEqualTo("bfloat16");
            assertThat(c.sideFiles()).extracting(p -> p.getFileName().toString()).containsExactly(
                    "config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json");
            assertThat(c.tensorBytes()).isEqualTo(r.tensorBytes());
            float[] norm = new float[64];
            FloatCodec.decode(c.view("model.norm.weight").data(), 0, DType.F32, norm, 0, 64);
            for (float v : norm) {
                assertThat(v).isBetween(0.9f, 1.1f);
            }
        }
    }

    @Test
    void sameOptionsGiveSameBytes() throws Exception {
        SyntheticLlama.write(tmp.resolve("a"), SyntheticLlama.Options.tiny());
        SyntheticLlama.write(tmp.resolve("b"), SyntheticLlama.Options.tiny());
        for (String f : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "tokenizer.json")) {
            assertThat(Files.mismatch(tmp.resolve("a").resolve(f), tmp.resolve("b").resolve(f))).isEqualTo(-1L);
        }
    }

    @Test
    void refusesExistingOutputUnlessForced() throws Exception {
        Path dir = tmp.resolve("out");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("keep.txt"), "x");
        List<PlannedTensor> plan = List.of(new PlannedTensor(new TensorInfo("a", DType.U8, Shape.of(3)),
                t -> t.copyFrom(MemorySegment.ofArray(new byte[] {1, 2, 3}))));
        assertThatThrownBy(() -> CheckpointWriter.write(dir, plan, List.of(), WriteOptions.defaults(), ProgressListener.NONE))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(dir.resolve("keep.txt")).exists();
        CheckpointWriter.write(dir, plan, List.of(), WriteOptions.defaults().withForce(true), ProgressListener.NONE);
        assertThat(dir.resolve("keep.txt")).doesNotExist();
        assertThat(dir.resolve("model.safetensors")).exists();
        assertThat(siblings()).containsExactly("out");
    }

    /** A mapped shard write that faults (the shard truncated under the mapping: what a full disk also raises). */
    @Test
    void faultedMappedWriteIsAnOutOfSpaceErrorAndLeavesNothingBehind() throws Exception {
        Path dir = tmp.resolve("out");
        List<PlannedTensor> plan = List.of(new PlannedTensor(new TensorInfo("a", DType.U8, Shape.of(1 << 16)), t -> {
            try (Stream<Path> all = Files.walk(tmp)) {
                Path shard = all.filter(f -> f.toString().endsWith(".safetensors")).findFirst().orElseThrow();
                try (var ch = java.nio.channels.FileChannel.open(shard, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
            t.fill((byte) 1);
        }));
        assertThatThrownBy(() -> CheckpointWriter.write(dir, plan, List.of(), WriteOptions.defaults(), ProgressListener.NONE))
                .isInstanceOf(OutOfSpaceException.class).hasMessageContaining("faulted: the disk is full");
        assertThat(siblings()).isEmpty();
    }

    @Test
    void failingRecipeLeavesNothingBehind() throws Exception {
        Path dir = tmp.resolve("out");
        List<PlannedTensor> plan = List.of(new PlannedTensor(new TensorInfo("a", DType.U8, Shape.of(3)), t -> {
            throw new java.io.IOException("boom");
        }));
        assertThatThrownBy(() -> CheckpointWriter.write(dir, plan, List.of(), WriteOptions.defaults(), ProgressListener.NONE))
                .hasMessage("boom");
        assertThat(siblings()).isEmpty();
    }

    @Test
    void shardsBySizeAndReadsBackEveryByte() throws Exception {
        List<PlannedTensor> plan = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            byte v = (byte) i;
            plan.add(new PlannedTensor(new TensorInfo("t" + i, i % 2 == 0 ? DType.U8 : DType.I16, Shape.of(100)),
                    t -> t.fill(v)));
        }
        Path dir = tmp.resolve("sharded");
        WriteReport r = CheckpointWriter.write(dir, plan, List.of(SideFile.Bytes.utf8("config.json", "{}")),
                new WriteOptions(350, false, 3), ProgressListener.NONE);
        assertThat(r.weightFiles()).hasSize(5);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.tensors()).hasSize(10);
            for (int i = 0; i < 10; i++) {
                MemorySegment d = c.view("t" + i).data();
                for (long j = 0; j < d.byteSize(); j++) {
                    assertThat(d.get(java.lang.foreign.ValueLayout.JAVA_BYTE, j)).isEqualTo((byte) i);
                }
            }
        }
    }

    private List<String> siblings() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}

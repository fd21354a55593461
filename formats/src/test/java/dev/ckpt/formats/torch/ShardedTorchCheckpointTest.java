package dev.ckpt.formats.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sharded .bin checkpoints through pytorch_model.bin.index.json, as Checkpoint opens them. */
class ShardedTorchCheckpointTest {
    @TempDir
    Path dir;

    private void shards() throws Exception {
        new TorchSaveWriter("pytorch_model-00001-of-00002")
                .tensor("model.embed_tokens.weight", DType.F16, new long[] {4, 2}, t -> t.fill((byte) 1))
                .tensor("model.norm.weight", DType.F16, new long[] {2}, t -> t.fill((byte) 2))
                .write(dir.resolve("pytorch_model-00001-of-00002.bin"));
        new TorchSaveWriter("pytorch_model-00002-of-00002")
                .tensor("lm_head.weight", DType.F16, new long[] {4, 2}, t -> t.fill((byte) 3))
                .write(dir.resolve("pytorch_model-00002-of-00002.bin"));
        Files.writeString(dir.resolve("pytorch_model.bin.index.json"), """
                {"metadata": {"total_size": 36}, "weight_map": {
                  "model.embed_tokens.weight": "pytorch_model-00001-of-00002.bin",
                  "model.norm.weight": "pytorch_model-00001-of-00002.bin",
                  "lm_head.weight": "pytorch_model-00002-of-00002.bin"}}
                """);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\"}");
    }

    @Test
    void opensShardsThroughTheIndexAndKeepsTrainerStateAsSideFile() throws Exception {
        shards();
        // training_args.bin is a pickled TrainingArguments object: never unpickled, kept as a side file
        byte[] pkl = PickleBytes.proto2().global("transformers.training_args", "TrainingArguments").op('.').bytes();
        PickleBytes.zip(dir.resolve("training_args.bin"), pkl);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.tensors()).extracting(TensorInfo::name)
                    .containsExactly("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight");
            assertThat(c.indexFile()).contains(dir.resolve("pytorch_model.bin.index.json").toAbsolutePath());
            assertThat(c.sideFiles()).extracting(p -> p.getFileName().toString()).contains("training_args.bin", "config.json");
            assertThat(c.view("lm_head.weight").data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 15)).isEqualTo((byte) 3);
            assertThat(c.config()).isPresent();
        }
    }

    @Test
    void indexProblemsAreReportedAsForSafetensors() throws Exception {
        shards();
        Files.delete(dir.resolve("pytorch_model-00002-of-00002.bin"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problems()).anyMatch(p -> p.contains("pytorch_model-00002-of-00002.bin") && p.contains("missing"));
        }
    }

    @Test
    void aHostileShardStopsOpeningWithTheUnsafeMessage() throws Exception {
        shards();
        Path bad = dir.resolve("pytorch_model-00002-of-00002.bin");
        Files.delete(bad);
        PickleBytes.zip(bad, PickleBytes.proto2().global("os", "system").op('.').bytes());
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(UnsafePickleException.class)
                .hasMessage("refusing to load " + bad.toAbsolutePath() + ": pickle references os.system,"
                        + " which is not part of a tensor state dict");
    }
}

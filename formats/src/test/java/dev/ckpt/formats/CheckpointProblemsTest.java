package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointProblemsTest {
    @TempDir
    Path tmp;
    Path dir;

    @BeforeEach
    void tiny() throws Exception {
        dir = tmp.resolve("m");
        SyntheticLlama.write(dir, SyntheticLlama.Options.tiny());
    }

    private Kind firstProblem() throws Exception {
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThatThrownBy(c::requireNoProblems).isInstanceOf(FormatException.class);
            return c.problemDetails().getFirst().kind();
        }
    }

    @Test
    void indexNamesMissingShard() throws Exception {
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertThat(firstProblem()).isEqualTo(Kind.MISSING_SHARD);
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problems()).hasSize(1).first().asString().contains("model-00002-of-00002.safetensors");
        }
    }

    @Test
    void indexNamesMissingTensor() throws Exception {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, Files.readString(index).replace("\"weight_map\" : {", "\"weight_map\" : {\n    \"ghost.weight\" : \"model-00001-of-00002.safetensors\","));
        assertThat(firstProblem()).isEqualTo(Kind.MISSING_TENSOR);
    }

    @Test
    void duplicateTensorAcrossShards() throws Exception {
        Files.copy(dir.resolve("model-00002-of-00002.safetensors"), dir.resolve("model-00003-of-00002.safetensors"));
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problemDetails()).extracting(Checkpoint.Problem::kind).contains(Kind.DUPLICATE_TENSOR, Kind.INVALID_INDEX);
            assertThat(c.problems()).anyMatch(p -> p.contains("model-00003-of-00002.safetensors is not in"));
        }
    }

    @Test
    void brokenIndexAndConfigAreProblems() throws Exception {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{not json");
        Files.writeString(dir.resolve("config.json"), "[1,");
        try (Checkpoint c = Checkpoint.open(dir)) {
            assertThat(c.problemDetails()).extracting(Checkpoint.Problem::kind).containsExactly(Kind.INVALID_INDEX, Kind.INVALID_JSON);
            assertThat(c.config()).isEmpty();
        }
    }

    @Test
    void emptyDirectoryHasNoWeights() throws Exception {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        try (Checkpoint c = Checkpoint.open(empty)) {
            assertThat(c.problemDetails()).extracting(Checkpoint.Problem::kind).containsExactly(Kind.MISSING_SHARD);
        }
    }

    @Test
    void missingPathAndCorruptShardThrow() throws Exception {
        assertThatThrownBy(() -> Checkpoint.open(tmp.resolve("nope"))).isInstanceOf(NoSuchFileException.class);
        Path shard = dir.resolve("model-00001-of-00002.safetensors");
        byte[] b = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(b, b.length - 1));
        assertThatThrownBy(() -> Checkpoint.open(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("model-00001-of-00002.safetensors");
    }

    @Test
    void singleFileOpens() throws Exception {
        Path single = tmp.resolve("one");
        SyntheticLlama.write(single, SyntheticLlama.Options.tiny().withShardCount(1));
        try (Checkpoint c = Checkpoint.open(single.resolve("model.safetensors"))) {
            assertThat(c.isDirectory()).isFalse();
            assertThat(c.tensors()).hasSize(21);
            assertThat(c.sideFiles()).isEmpty();
            assertThat(c.problems()).isEmpty();
        }
    }
}

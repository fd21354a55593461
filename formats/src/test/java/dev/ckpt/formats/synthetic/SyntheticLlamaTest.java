package dev.ckpt.formats.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.WriteOptions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticLlamaTest {
    @TempDir
    Path tmp;

    @Test
    void f16WithGroupedQueryAttentionInOneShard() throws Exception {
        SyntheticLlama.Options o = SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F16).withKvHeads(2)
                .withShardCount(1).withLayers(3);
        SyntheticLlama.write(tmp.resolve("m"), o);
        try (Checkpoint c = Checkpoint.open(tmp.resolve("m"))) {
            assertThat(c.weightFiles()).extracting(p -> p.getFileName().toString()).containsExactly("model.safetensors");
            assertThat(c.tensors()).extracting(TensorInfo::dtype).containsOnly(DType.F16);
            assertThat(c.tensor("model.layers.2.self_attn.k_proj.weight").orElseThrow().shape().dims()).containsExactly(32, 64);
            assertThat(c.config().orElseThrow().get("num_key_value_heads").asInt()).isEqualTo(2);
            assertThat(c.config().orElseThrow().get("torch_dtype").asText()).isEqualTo("float16");
            assertThat(c.config().orElseThrow().get("vocab_size").asInt()).isEqualTo(SyntheticTokenizer.vocabSize());
        }
    }

    @Test
    void exactShardCountsAndTokenizerIsConsistent() throws Exception {
        SyntheticLlama.write(tmp.resolve("f32"), SyntheticLlama.Options.tiny().withDtypes(SyntheticLlama.Dtypes.F32).withShardCount(4));
        try (Checkpoint c = Checkpoint.open(tmp.resolve("f32"))) {
            assertThat(c.weightFiles()).hasSize(4);
            assertThat(c.problems()).isEmpty();
            var tok = c.json("tokenizer.json").orElseThrow();
            var vocab = tok.get("model").get("vocab");
            assertThat(vocab.get("<0x41>").asInt()).isEqualTo(3 + 0x41);
            for (var merge : tok.get("model").get("merges")) {
                String[] parts = merge.asText().split(" ");
                assertThat(vocab.has(parts[0]) && vocab.has(parts[1]) && vocab.has(parts[0] + parts[1])).as(merge.asText()).isTrue();
            }
        }
        assertThat(SyntheticLlama.Options.ofSize(2_000_000_000L, WriteOptions.DEFAULT_MAX_SHARD_BYTES).layers()).isEqualTo(17);
    }
}

package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.numeric.Bf16;
import dev.ckpt.formats.numeric.F16;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvertCommandTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;
    Path model;

    @BeforeEach
    void build() throws Exception {
        model = tmp.resolve("llama");
        SyntheticLlama.write(model, SyntheticLlama.Options.tiny());
    }

    @Test
    void convertsToF16BitExactlyAndRewritesConfig() throws Exception {
        Path out = tmp.resolve("f16");
        CliRunner r = CliRunner.run("convert", model.toString(), "--out", out.toString(), "--dtype", "f16", "--threads", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("21 tensors (21 converted)");
        assertThat(new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText()).isEqualTo("float16");
        assertThat(Files.readString(out.resolve("tokenizer.json"))).isEqualTo(Files.readString(model.resolve("tokenizer.json")));
        try (Checkpoint in = Checkpoint.open(model); Checkpoint conv = Checkpoint.open(out)) {
            assertThat(conv.problems()).isEmpty();
            assertThat(conv.tensors()).extracting(TensorInfo::name).containsExactlyInAnyOrderElementsOf(
                    in.tensors().stream().map(TensorInfo::name).toList());
            for (TensorInfo t : in.tensors()) {
                MemorySegment a = in.view(t.name()).data();
                MemorySegment b = conv.view(t.name()).data();
                assertThat(conv.tensor(t.name()).orElseThrow().dtype()).isEqualTo(DType.F16);
                for (long i = 0; i < t.elementCount(); i++) {
                    float v = t.dtype() == DType.BF16 ? Bf16.toFloat(a.get(LE16, 2 * i)) : a.get(LE32, 4 * i);
                    assertThat(b.get(LE16, 2 * i)).isEqualTo(F16.fromFloat(v));
                }
            }
        }
    }

    @Test
    void keepsDtypesWithoutDtypeAndShardsBySize() throws Exception {
        Path out = tmp.resolve("copy");
        CliRunner r = CliRunner.run("convert", model.toString(), "--out", out.toString(), "--max-shard-size", "100kB", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(new ObjectMapper().readTree(r.out()).get("shards").asInt()).isEqualTo(3);
        assertThat(out.resolve("model.safetensors.index.json")).exists();
        try (Checkpoint in = Checkpoint.open(model); Checkpoint copy = Checkpoint.open(out)) {
            assertThat(copy.problems()).isEmpty();
            for (TensorInfo t : in.tensors()) {
                assertThat(copy.tensor(t.name())).contains(t);
                assertThat(in.view(t.name()).data().mismatch(copy.view(t.name()).data())).isEqualTo(-1L);
            }
            assertThat(new ObjectMapper().readTree(out.resolve("config.json").toFile()).get("torch_dtype").asText()).isEqualTo("bfloat16");
        }
    }

    @Test
    void refusesExistingOutputWithoutForce() throws Exception {
        Path out = Files.createDirectory(tmp.resolve("out"));
        CliRunner r = CliRunner.run("convert", model.toString(), "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).contains("already exists (pass --force to replace it)");
        assertThat(CliRunner.run("convert", model.toString(), "--out", out.toString(), "--force").exitCode()).isZero();
        assertThat(out.resolve("model.safetensors")).exists();
    }

    @Test
    void usageErrorsExit2() {
        Path out = tmp.resolve("o");
        assertThat(CliRunner.run("convert", model.toString(), "--out", out.toString(), "--dtype", "int4").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("convert", model.toString(), "--out", out.toString(), "--max-shard-size", "lots").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("convert", model.toString(), "--out", out.toString(), "--to", "onnx").exitCode()).isEqualTo(2);
        assertThat(CliRunner.run("convert", model.toString()).exitCode()).isEqualTo(2);
    }

    @Test
    void badInputsExit3AndWriteNothing() throws Exception {
        CliRunner into = CliRunner.run("convert", model.toString(), "--out", model.resolve("sub").toString());
        assertThat(into.exitCode()).isEqualTo(3);
        assertThat(into.err()).contains("overlaps the source");
        Files.delete(model.resolve("model-00002-of-00002.safetensors"));
        CliRunner missing = CliRunner.run("convert", model.toString(), "--out", tmp.resolve("o").toString());
        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.err().lines()).hasSize(1).first().asString().contains("model-00002-of-00002.safetensors", "missing");
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("llama");
        }
    }
}

package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.numeric.Bf16;
import dev.ckpt.formats.torch.TorchSaveWriter;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ckpt convert} and {@code ckpt inspect} on PyTorch .bin checkpoints, through the real CLI. */
class ConvertBinCommandTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    private static TensorRecipe bf16(float... values) {
        return t -> {
            for (int i = 0; i < values.length; i++) {
                t.set(LE16, 2L * i, Bf16.fromFloat(values[i]));
            }
        };
    }

    /** A two-shard bf16 model: tied embed/lm_head, a transposed view, a row at a storage offset. */
    private Path binModel() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("bin-model"));
        TorchSaveWriter a = new TorchSaveWriter("pytorch_model-00001-of-00002");
        TorchSaveWriter.Storage emb = a.storage(DType.BF16, 6, bf16(1, 2, 3, 4, 5, 6));
        a.tensor("model.embed_tokens.weight", emb, 0, new long[] {3, 2}, new long[] {2, 1})
                .tensor("lm_head.weight", emb, 0, new long[] {3, 2}, new long[] {2, 1})
                .tensor("proj.weight", emb, 0, new long[] {2, 3}, new long[] {1, 2})
                .tensor("last_row", emb, 4, new long[] {2}, new long[] {1})
                .write(dir.resolve("pytorch_model-00001-of-00002.bin"));
        new TorchSaveWriter("pytorch_model-00002-of-00002")
                .tensor("model.norm.weight", DType.BF16, new long[] {2}, bf16(0.5f, -2))
                .write(dir.resolve("pytorch_model-00002-of-00002.bin"));
        Files.writeString(dir.resolve("pytorch_model.bin.index.json"), """
                {"metadata": {"total_size": 40}, "weight_map": {
                  "model.embed_tokens.weight": "pytorch_model-00001-of-00002.bin",
                  "lm_head.weight": "pytorch_model-00001-of-00002.bin",
                  "proj.weight": "pytorch_model-00001-of-00002.bin",
                  "last_row": "pytorch_model-00001-of-00002.bin",
                  "model.norm.weight": "pytorch_model-00002-of-00002.bin"}}
                """);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"llama\", \"torch_dtype\": \"bfloat16\"}\n");
        return dir;
    }

    private static float[] f32(Checkpoint c, String name) throws Exception {
        MemorySegment s = c.view(name).data();
        float[] out = new float[(int) (s.byteSize() / 4)];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.get(LE32, 4L * i);
        }
        return out;
    }

    @Test
    void convertsShardedBinToSafetensorsDeAliasingTiedAndGatheringViews() throws Exception {
        Path out = tmp.resolve("st");
        CliRunner r = CliRunner.run("convert", binModel().toString(), "--to", "safetensors", "--out", out.toString(),
                "--dtype", "f32");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("5 tensors (5 converted)")
                .contains("de-aliased tied tensors (shared one storage, now written once per name): "
                        + "model.embed_tokens.weight, lm_head.weight, proj.weight, last_row");
        assertThat(out.resolve("model.safetensors")).exists();
        try (Checkpoint c = Checkpoint.open(out)) {
            assertThat(c.problems()).isEmpty();
            assertThat(c.tensors()).extracting(TensorInfo::dtype).containsOnly(DType.F32);
            assertThat(f32(c, "lm_head.weight")).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(f32(c, "model.embed_tokens.weight")).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(f32(c, "proj.weight")).containsExactly(1, 3, 5, 2, 4, 6);
            assertThat(f32(c, "last_row")).containsExactly(5, 6);
            assertThat(f32(c, "model.norm.weight")).containsExactly(0.5f, -2);
            assertThat(c.tensor("proj.weight").orElseThrow().shape().dims()).containsExactly(2, 3);
        }
        assertThat(Files.readString(out.resolve("config.json"))).contains("\"float32\"");
        assertThat(out.resolve("pytorch_model.bin.index.json")).doesNotExist();
    }

    @Test
    void keepsDtypeByDefaultAndInspectReadsBinFiles() throws Exception {
        Path model = binModel();
        Path out = tmp.resolve("same");
        CliRunner r = CliRunner.run("convert", model.resolve("pytorch_model-00001-of-00002.bin").toString(),
                "--out", out.toString(), "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"tensors\":4").contains("\"deAliased\":1");
        try (Checkpoint c = Checkpoint.open(out)) {
            MemorySegment proj = c.view("proj.weight").data(); // gathered (transposed view)
            assertThat(proj.get(LE16, 2)).isEqualTo(Bf16.fromFloat(3));
            MemorySegment row = c.view("last_row").data(); // copied file range at a storage offset
            assertThat(new short[] {row.get(LE16, 0), row.get(LE16, 2)}).containsExactly(Bf16.fromFloat(5), Bf16.fromFloat(6));
            MemorySegment head = c.view("lm_head.weight").data();
            for (int i = 0; i < 6; i++) {
                assertThat(head.get(LE16, 2L * i)).isEqualTo(Bf16.fromFloat(i + 1));
            }
        }
        CliRunner inspect = CliRunner.run("inspect", model.toString());
        assertThat(inspect.exitCode()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("lm_head.weight").contains("pytorch_model-00002-of-00002.bin");
        CliRunner one = CliRunner.run("inspect", model.resolve("pytorch_model-00002-of-00002.bin").toString());
        assertThat(one.exitCode()).as(one.err()).isZero();
        assertThat(one.out()).contains("model.norm.weight");
    }

    @Test
    void hostilePickleExitsThreeWithOneLineAndWritesNothing() throws Exception {
        Path model = binModel();
        Path shard = model.resolve("pytorch_model-00002-of-00002.bin");
        // swap the OrderedDict global for one of the same length: subprocess.check_output
        byte[] bytes = Files.readAllBytes(shard);
        String text = new String(bytes, StandardCharsets.ISO_8859_1)
                .replace("collections\nOrderedDict\n", "subprocess\ncheck_output\n");
        Files.write(shard, text.getBytes(StandardCharsets.ISO_8859_1));
        Path out = tmp.resolve("never");
        CliRunner r = CliRunner.run("convert", model.toString(), "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).isEqualTo("ckpt: refusing to load " + shard.toAbsolutePath()
                + ": pickle references subprocess.check_output, which is not part of a tensor state dict"
                + System.lineSeparator());
        assertThat(out).doesNotExist();
        assertThat(CliRunner.run("inspect", shard.toString()).exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
    }

    @Test
    void truncatedLegacyStreamExitsThreeWithOneLine() throws Exception {
        Path legacy = tmp.resolve("old.bin");
        Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46,
                (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
        CliRunner r = CliRunner.run("convert", legacy.toString(), "--out", tmp.resolve("o").toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.BAD_INPUT);
        assertThat(r.err()).startsWith("ckpt: old.bin: protocol version pickle is truncated").doesNotContain("\tat ");
    }
}

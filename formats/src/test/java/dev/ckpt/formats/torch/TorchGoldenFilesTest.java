package dev.ckpt.formats.torch;

import static dev.ckpt.formats.torch.TorchBinFileTest.floatsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by real torch.save (torch 2.13.0+cpu; recipe and sha256 in
 * src/test/resources/torch/README.md): read back exactly, and TorchSaveWriter reproduces one byte for byte.
 */
class TorchGoldenFilesTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path tmp;

    private Path golden(String name) throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/torch/" + name)) {
            Path p = tmp.resolve(name);
            Files.copy(in, p);
            return p;
        }
    }

    @Test
    void writerReproducesTorchSaveByteForByte() throws Exception {
        Path real = golden("linear.bin");
        String id;
        try (ZipFile z = new ZipFile(real.toFile())) {
            id = new String(z.getInputStream(z.getEntry("linear/.data/serialization_id")).readAllBytes(), StandardCharsets.US_ASCII);
        }
        Path ours = tmp.resolve("ours.bin");
        new TorchSaveWriter("linear").serializationId(id)
                .tensor("weight", DType.F32, new long[] {3, 4}, t -> {
                    for (int i = 0; i < 12; i++) {
                        t.set(F32, 4L * i, i);
                    }
                })
                .tensor("bias", DType.F32, new long[] {3}, TorchBinFileTest.floats(0.5f, -1, 2))
                .write(ours);
        assertThat(Files.readAllBytes(ours)).isEqualTo(Files.readAllBytes(real));
    }

    @ParameterizedTest
    @ValueSource(strings = {"zoo.bin", "zoo_legacy.bin"})
    void readsEveryTensorKindTorchWrites(String name) throws Exception {
        try (TorchBinFile f = TorchBinFile.open(golden(name))) {
            assertThat(f.tensors()).extracting(t -> t.name() + ":" + t.dtype() + t.shape()).containsExactly(
                    "embed.weight:F32[3, 4]", "lm_head.weight:F32[3, 4]", "alias:F32[3, 4]", "transposed:F32[4, 3]",
                    "row2:F32[4]", "bf16:BF16[3]", "f16:F16[2]", "i64:I64[3]", "flags:BOOL[3]", "scalar:F32[]",
                    "param:F32[2]", "f8:F8_E4M3[2]");
            assertThat(floatsOf(f.view("lm_head.weight"))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
            assertThat(floatsOf(f.view("transposed"))).containsExactly(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11);
            assertThat(floatsOf(f.view("row2"))).containsExactly(8, 9, 10, 11);
            assertThat(floatsOf(f.view("scalar"))).containsExactly(7);
            assertThat(floatsOf(f.view("param"))).containsExactly(1, 1);
            MemorySegment bf = f.view("bf16").data();
            assertThat(new short[] {bf.get(I16, 0), bf.get(I16, 2), bf.get(I16, 4)})
                    .containsExactly((short) 0x3fc0, (short) 0xc000, (short) 0x4050);
            MemorySegment h = f.view("f16").data();
            assertThat(new short[] {h.get(I16, 0), h.get(I16, 2)}).containsExactly((short) 0x3800, (short) 0xb400);
            assertThat(f.view("i64").data().get(ValueLayout.JAVA_LONG_UNALIGNED, 8)).isEqualTo(1L << 40);
            assertThat(f.view("flags").data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 0, 1);
            assertThat(f.view("f8").data().toArray(ValueLayout.JAVA_BYTE)).containsExactly(0x38, (byte) 0xc0);
            assertThat(f.sharedStorages()).containsExactly(
                    List.of("embed.weight", "lm_head.weight", "alias", "transposed", "row2"));
            assertThat(f.tensors()).extracting(TensorInfo::byteSize).doesNotContainNull();
        }
    }

    @Test
    void nestedDictsFollowTheUnwrapRule() throws Exception {
        try (TorchBinFile f = TorchBinFile.open(golden("wrapped.pt"))) {
            assertThat(f.tensors()).extracting(TensorInfo::name).containsExactly("weight", "bias");
            assertThat(f.notes()).containsExactly("unwrapped the state dict under 'state_dict' (the only top-level entry)");
        }
        Path ckpt = golden("checkpoint.pt");
        FormatException e = catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(ckpt).close());
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
        assertThat(e.getMessage()).contains("nested dicts under 'model', 'optimizer'");
        try (TorchBinFile f = TorchBinFile.open(ckpt, new TorchBinFile.Options("model"))) {
            assertThat(floatsOf(f.view("bias"))).containsExactly(0.5f, -1, 2);
        }
    }

    @Test
    void realOsSystemPickleIsRefusedAsPosixSystem() throws Exception {
        Path evil = golden("evil.bin");
        FormatException e = catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(evil).close());
        assertThat(e).isInstanceOf(UnsafePickleException.class);
        assertThat(e.getMessage()).isEqualTo("refusing to load " + evil
                + ": pickle references posix.system, which is not part of a tensor state dict");
    }
}

package dev.ckpt.formats.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Less common but legitimate variants, and the unsupported ones named clearly. */
class TorchBinEdgeCasesTest {
    @TempDir
    Path dir;

    private FormatException fails(Path file) {
        return catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(file).close());
    }

    @Test
    void rebuildTensorV3ReadsNewDtypesFromUntypedStorage() throws Exception {
        // {"f8": _rebuild_tensor_v3(UntypedStorage('0', numel=4 bytes), 0, (4,), (1,), False, OrderedDict(), torch.float8_e4m3fn)}
        byte[] pkl = PickleBytes.proto2().op('}').str("f8").global("torch._utils", "_rebuild_tensor_v3").op('(')
                .op('(').str("storage").global("torch", "UntypedStorage").str("0").str("cpu").integer(4).op('t').op('Q')
                .integer(0).integer(4).op(0x85).integer(1).op(0x85).op(0x89)
                .global("collections", "OrderedDict").op(')').op('R')
                .global("torch", "float8_e4m3fn").op('t').op('R').op('s').op('.').bytes();
        Path file = PickleBytes.zip(dir.resolve("f8.bin"), pkl, new byte[] {0x38, 0x40, 0x44, 0x48});
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors().getFirst().dtype()).isEqualTo(DType.F8_E4M3);
            assertThat(f.view("f8").data().byteSize()).isEqualTo(4);
        }
    }

    @Test
    void bigEndianArchivesAreRefused() throws Exception {
        try (TorchZipWriter zip = new TorchZipWriter(dir.resolve("be.bin"), false)) {
            zip.add("archive/data.pkl", PickleBytes.proto2().op('}').op('.').bytes());
            zip.add("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
            zip.finish();
        }
        FormatException e = fails(dir.resolve("be.bin"));
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
        assertThat(e.getMessage()).contains("byteorder record says 'big'");
    }

    @Test
    void torchScriptArchivesAreNamed() throws Exception {
        try (TorchZipWriter zip = new TorchZipWriter(dir.resolve("ts.pt"), false)) {
            zip.add("model/constants.pkl", PickleBytes.proto2().op(')').op('.').bytes());
            zip.add("model/code/__torch__.py", "def forward(self): ...".getBytes(StandardCharsets.UTF_8));
            zip.finish();
        }
        FormatException e = fails(dir.resolve("ts.pt"));
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
        assertThat(e.getMessage()).contains("TorchScript archive");
        try (TorchZipWriter zip = new TorchZipWriter(dir.resolve("flat.bin"), false)) {
            zip.add("data.pkl", PickleBytes.proto2().op('}').op('.').bytes());
            zip.finish();
        }
        assertThat(fails(dir.resolve("flat.bin")).getMessage()).contains("is not in a top folder");
    }

    @Test
    void compressedEntriesAreRefusedNotInflated() throws Exception {
        Path file = dir.resolve("c.bin");
        new TorchSaveWriter("archive").tensor("x", DType.F32, new long[] {2}, t -> { }).write(file);
        byte[] b = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int cd = buf.getInt(b.length - 22 + 16);
        buf.putShort(cd + 10, (short) 8); // first central entry (data.pkl): method 8 = deflate
        FormatException e = fails(Files.write(dir.resolve("c2.bin"), b));
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
        assertThat(e.getMessage()).contains("is compressed (method 8)");
    }

    @Test
    void nonTensorEntriesAreSkippedWithANote() throws Exception {
        // {"epoch": 3, "w": tensor}
        byte[] pkl = PickleBytes.proto2().op('}').op('(').str("epoch").integer(3)
                .str("w").global("torch._utils", "_rebuild_tensor").op('(')
                .floatStorage("0", 1).integer(0).integer(1).op(0x85).integer(1).op(0x85).op('t').op('R')
                .op('u').op('.').bytes();
        try (TorchBinFile f = TorchBinFile.open(PickleBytes.zip(dir.resolve("n.bin"), pkl, new byte[4]))) {
            assertThat(f.tensors()).hasSize(1);
            assertThat(f.notes()).containsExactly("skipped non-tensor entry 'epoch' (int)");
        }
    }
}

package dev.ckpt.formats.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.TensorView;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchBinFileTest {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    static TensorRecipe floats(float... values) {
        return t -> {
            for (int i = 0; i < values.length; i++) {
                t.set(F32, 4L * i, values[i]);
            }
        };
    }

    static TensorRecipe shorts(short... values) {
        return t -> {
            for (int i = 0; i < values.length; i++) {
                t.set(I16, 2L * i, values[i]);
            }
        };
    }

    static float[] floatsOf(TensorView v) {
        float[] out = new float[(int) (v.data().byteSize() / 4)];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.data().get(F32, 4L * i);
        }
        return out;
    }

    @Test
    void readsContiguousTensorsOfEveryCommonDtypeZeroCopy() throws Exception {
        Path file = dir.resolve("pytorch_model.bin");
        new TorchSaveWriter("pytorch_model")
                .tensor("w", DType.F32, new long[] {2, 3}, floats(1, 2, 3, 4, 5, 6))
                .tensor("h", DType.F16, new long[] {2}, shorts((short) 0x3c00, (short) 0xc000))
                .tensor("b", DType.BF16, new long[] {3}, shorts((short) 0x3f80, (short) 0x4000, (short) 0x4040))
                .tensor("ids", DType.I64, new long[] {}, t -> t.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 7L))
                .write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors()).extracting(t -> t.name() + ":" + t.dtype() + t.shape())
                    .containsExactly("w:F32[2, 3]", "h:F16[2]", "b:BF16[3]", "ids:I64[]");
            assertThat(floatsOf(f.view("w"))).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(f.view("h").data().get(I16, 2)).isEqualTo((short) 0xc000);
            assertThat(f.view("b").data().get(I16, 4)).isEqualTo((short) 0x4040);
            assertThat(f.view("ids").data().get(ValueLayout.JAVA_LONG_UNALIGNED, 0)).isEqualTo(7L);
            assertThat(f.view("w").data().isMapped()).as("contiguous views are slices of the mapping").isTrue();
            assertThat(f.notes()).isEmpty();
            assertThat(f.sharedStorages()).isEmpty();
        }
    }

    @Test
    void tiedWeightsAndStorageOffsetsShareOneRecord() throws Exception {
        Path file = dir.resolve("tied.bin");
        TorchSaveWriter w = new TorchSaveWriter("archive");
        TorchSaveWriter.Storage s = w.storage(DType.F32, 8, floats(0, 1, 2, 3, 4, 5, 6, 7));
        w.tensor("embed.weight", s, 0, new long[] {2, 4}, new long[] {4, 1})
                .tensor("lm_head.weight", s, 0, new long[] {2, 4}, new long[] {4, 1})
                .tensor("second_row", s, 4, new long[] {4}, new long[] {1})
                .write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.sharedStorages()).containsExactly(List.of("embed.weight", "lm_head.weight", "second_row"));
            assertThat(floatsOf(f.view("lm_head.weight"))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
            assertThat(floatsOf(f.view("second_row"))).containsExactly(4, 5, 6, 7);
            // the file range of a tensor at a storage offset holds exactly its view's bytes
            var range = f.fileRange("second_row").orElseThrow();
            byte[] all = Files.readAllBytes(file);
            assertThat(range.byteSize()).isEqualTo(16);
            assertThat(MemorySegment.ofArray(java.util.Arrays.copyOfRange(all, (int) range.byteOffset(),
                    (int) (range.byteOffset() + 16))).mismatch(f.view("second_row").data())).isEqualTo(-1);
        }
    }

    @Test
    void nonContiguousViewsAreGatheredRowMajor() throws Exception {
        Path file = dir.resolve("t.bin");
        TorchSaveWriter w = new TorchSaveWriter("archive");
        // storage holds a 2x3 matrix [[0,1,2],[3,4,5]]; "t" is its transpose (3x2, stride (1,3))
        TorchSaveWriter.Storage s = w.storage(DType.F32, 6, floats(0, 1, 2, 3, 4, 5));
        TorchSaveWriter.Storage h = w.storage(DType.F16, 6, shorts((short) 0, (short) 1, (short) 2, (short) 3, (short) 4, (short) 5));
        w.tensor("m", s, 0, new long[] {2, 3}, new long[] {3, 1})
                .tensor("t", s, 0, new long[] {3, 2}, new long[] {1, 3})
                .tensor("col1", s, 1, new long[] {2}, new long[] {3})
                .tensor("every_other", s, 1, new long[] {2, 1}, new long[] {3, 2})
                .tensor("t16", h, 0, new long[] {3, 2}, new long[] {1, 3})
                .write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.isContiguous("m")).isTrue();
            assertThat(f.isContiguous("t")).isFalse();
            assertThat(f.fileRange("t")).isEmpty();
            assertThat(floatsOf(f.view("t"))).containsExactly(0, 3, 1, 4, 2, 5);
            assertThat(f.view("t").data().address()).as("gathered once, reused by chunked readers")
                    .isEqualTo(f.view("t").data().address());
            assertThat(floatsOf(f.view("col1"))).containsExactly(1, 4);
            assertThat(floatsOf(f.view("every_other"))).containsExactly(1, 4);
            MemorySegment t16 = f.view("t16").data();
            assertThat(new short[] {t16.get(I16, 0), t16.get(I16, 2), t16.get(I16, 4), t16.get(I16, 6)})
                    .containsExactly(0, 3, 1, 4);
        }
    }

    @Test
    void writerLaysOutRecordsLikeTorchSave() throws Exception {
        Path file = dir.resolve("layout.bin");
        new TorchSaveWriter("archive").tensor("layer.weight", DType.F32, new long[] {4, 8}, t -> { })
                .write(file);
        try (FileChannel ch = FileChannel.open(file); Arena arena = Arena.ofConfined()) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            ZipArchive zip = ZipArchive.read(file, seg);
            assertThat(zip.entries().keySet()).containsExactly("archive/data.pkl", "archive/.format_version",
                    "archive/.storage_alignment", "archive/byteorder", "archive/data/0", "archive/version",
                    "archive/.data/serialization_id");
            zip.entries().values().forEach(e -> assertThat(e.dataOffset() % 64).as(e.name()).isZero());
            // local header: signature, version needed 0 (as miniz writes for torch), flags 0x0808 (data descriptor + UTF-8), method 0 (stored)
            assertThat(HexFormat.of().formatHex(seg.asSlice(0, 10).toArray(ValueLayout.JAVA_BYTE)))
                    .isEqualTo("504b0304000008080000");
            byte[] pkl = zip.storedBytes(zip.entry("archive/data.pkl").orElseThrow()).toArray(ValueLayout.JAVA_BYTE);
            String hex = HexFormat.of().formatHex(pkl);
            // PROTO 2; GLOBAL collections.OrderedDict; BINPUT 0; EMPTY_TUPLE; REDUCE; BINPUT 1 (reference C3)
            assertThat(hex).startsWith("8002" + HexFormat.of().formatHex("ccollections\nOrderedDict\n".getBytes())
                    + "7100" + "29" + "52" + "7101");
            // size (4, 8) and stride (8, 1) as BININT1 pairs + TUPLE2, then requires_grad False
            assertThat(hex).contains("4b044b0886" + "7109" + "4b084b0186" + "710a" + "89");
            assertThat(hex).endsWith("622e"); // BUILD (the _metadata state), STOP
        }
    }

    @Test
    void zip64RecordsAndAnyTopFolderAreRead() throws Exception {
        Path file = dir.resolve("z64.bin");
        new TorchSaveWriter("my_model").forceZip64(true).tensor("x", DType.F32, new long[] {3}, floats(1, 2, 3))
                .write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(floatsOf(f.view("x"))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void onlyNestedStateDictIsUnwrappedAutomatically() throws Exception {
        Path file = dir.resolve("wrapped.bin");
        new TorchSaveWriter("archive").wrapIn("state_dict").tensor("x", DType.F32, new long[] {1}, floats(9))
                .write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors()).extracting(t -> t.name()).containsExactly("x");
            assertThat(f.notes()).containsExactly("unwrapped the state dict under 'state_dict' (the only top-level entry)");
        }
        try (TorchBinFile f = TorchBinFile.open(file, new TorchBinFile.Options("state_dict"))) {
            assertThat(f.shape("x")).isEqualTo(Shape.of(1));
        }
        assertThatThrownBy(() -> TorchBinFile.open(file, new TorchBinFile.Options("model")))
                .isInstanceOf(FormatException.class).hasMessageContaining("no nested state dict under 'model'");
    }

    @Test
    void severalNestedDictsAreReportedNotGuessed() throws Exception {
        // {"model": {"x": tensor}, "optimizer": {}}
        byte[] pkl = PickleBytes.proto2().op('}').op('(')
                .str("model").op('}').str("x").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .floatStorage("0", 1).integer(0).integer(1).op(0x85).integer(1).op(0x85).op(0x89)
                .global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('s')
                .str("optimizer").op('}').op('u').op('.').bytes();
        Path file = PickleBytes.zip(dir.resolve("ckpt.bin"), pkl, new byte[4]);
        assertThatThrownBy(() -> TorchBinFile.open(file)).isInstanceOf(FormatException.class)
                .hasMessageContaining("nested dicts under 'model', 'optimizer'")
                .extracting(e -> ((FormatException) e).kind()).isEqualTo(FormatException.Kind.UNSUPPORTED);
        try (TorchBinFile f = TorchBinFile.open(file, new TorchBinFile.Options("model"))) {
            assertThat(f.tensors()).extracting(t -> t.name()).containsExactly("x");
        }
    }

    @Test
    void parameterAndRebuildFromTypeWrappersYieldTheirTensor() throws Exception {
        // {"p": _rebuild_parameter(_rebuild_tensor_v2(...), True, OrderedDict())} in protocol-4 framing
        byte[] pkl = PickleBytes.proto2().op('}').shortStr("p")
                .global("torch._utils", "_rebuild_parameter")
                .global("torch._utils", "_rebuild_tensor_v2").op('(')
                .floatStorage("0", 2).integer(0).integer(2).op(0x85).integer(1).op(0x85).op(0x89)
                .global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                .op(0x88).global("collections", "OrderedDict").op(')').op('R').op(0x87).op('R')
                .op('s').op('.').bytes();
        byte[] storage = new byte[8];
        storage[3] = 0x3f; // 0.5f little-endian: 00 00 00 3f
        Path file = PickleBytes.zip(dir.resolve("p.bin"), pkl, storage);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(floatsOf(f.view("p"))).containsExactly(0.5f, 0f);
        }
    }

    @Test
    void thousandsOfTensorsUseLongMemoIndicesAndSetItemsBatches() throws Exception {
        Path file = dir.resolve("many.bin");
        TorchSaveWriter w = new TorchSaveWriter("archive");
        for (int i = 0; i < 2500; i++) {
            float v = i;
            w.tensor("layer." + i + ".weight", DType.F32, new long[] {1}, floats(v));
        }
        w.write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors()).hasSize(2500);
            assertThat(floatsOf(f.view("layer.2499.weight"))).containsExactly(2499f);
        }
    }

    @Test
    void fileWithoutTensorsReadsAsEmpty() throws Exception {
        Path file = dir.resolve("empty.bin");
        new TorchSaveWriter("archive").write(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors()).isEmpty();
        }
        assertThat(Files.size(file)).isPositive();
    }
}

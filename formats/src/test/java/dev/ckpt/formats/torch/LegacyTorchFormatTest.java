package dev.ckpt.formats.torch;

import static dev.ckpt.formats.torch.TorchBinFileTest.floats;
import static dev.ckpt.formats.torch.TorchBinFileTest.floatsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The legacy (pre-1.6) torch.save stream: five pickles, then int64 count + raw bytes per storage. */
class LegacyTorchFormatTest {
    @TempDir
    Path dir;

    private TorchSaveWriter model() {
        TorchSaveWriter w = new TorchSaveWriter("archive");
        TorchSaveWriter.Storage s = w.storage(DType.F32, 6, floats(0, 1, 2, 3, 4, 5));
        w.tensor("a", s, 0, new long[] {2, 3}, new long[] {3, 1})
                .tensor("a_t", s, 0, new long[] {3, 2}, new long[] {1, 3})
                .tensor("row1", s, 3, new long[] {3}, new long[] {1});
        // eleven more storages, so the sorted key list ("0", "1", "10", "11", "2", ...) differs from pickle order
        for (int i = 0; i < 11; i++) {
            w.tensor("b" + i, DType.BF16, new long[] {2}, TorchBinFileTest.shorts((short) i, (short) (100 + i)));
        }
        return w;
    }

    @Test
    void readsLegacyStreamsZeroCopyWithSortedStorageKeys() throws Exception {
        Path file = dir.resolve("old.bin");
        model().writeLegacy(file);
        try (TorchBinFile f = TorchBinFile.open(file)) {
            assertThat(f.tensors()).extracting(TensorInfo::name).startsWith("a", "a_t", "row1", "b0").hasSize(14);
            assertThat(floatsOf(f.view("a_t"))).containsExactly(0, 3, 1, 4, 2, 5);
            assertThat(floatsOf(f.view("row1"))).containsExactly(3, 4, 5);
            assertThat(f.view("b10").data().get(TorchBinFileTest.I16, 2)).isEqualTo((short) 110);
            assertThat(f.view("b2").data().get(TorchBinFileTest.I16, 0)).isEqualTo((short) 2);
            assertThat(f.view("a").data().isMapped()).isTrue();
            assertThat(f.sharedStorages()).containsExactly(List.of("a", "a_t", "row1"));
            var range = f.fileRange("b10").orElseThrow();
            byte[] all = Files.readAllBytes(file);
            assertThat(all[(int) range.byteOffset() + 2]).isEqualTo((byte) 110);
        }
    }

    @Test
    void hostileOrBrokenLegacyStreamsFailWithOneLine() throws Exception {
        Path file = dir.resolve("ok.bin");
        model().writeLegacy(file);
        byte[] ok = Files.readAllBytes(file);
        for (int cut : new int[] {15, 40, 120, ok.length / 2, ok.length - 1}) {
            Path t = Files.write(dir.resolve("cut" + cut + ".bin"), Arrays.copyOf(ok, cut));
            FormatException e = catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(t).close());
            assertThat(e).as("cut at " + cut).isNotNull();
            assertThat(e.getMessage()).doesNotContain("\n");
        }
        Path last = Files.write(dir.resolve("last.bin"), Arrays.copyOf(ok, ok.length - 1));
        assertThat(catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(last).close()).getMessage())
                .contains("ends inside storage");
        // same length swap of the OrderedDict global in the object pickle
        String text = new String(ok, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("collections\nOrderedDict\n", "subprocess\ncheck_output\n");
        Path evil = Files.write(dir.resolve("evil.bin"), text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        FormatException e = catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(evil).close());
        assertThat(e).isInstanceOf(UnsafePickleException.class);
        assertThat(e.kind()).isEqualTo(Kind.UNSAFE_PICKLE);
    }

    @Test
    void bigEndianSysInfoIsRefused() throws Exception {
        Path file = dir.resolve("be.bin");
        model().writeLegacy(file);
        byte[] b = Files.readAllBytes(file);
        String s = new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = s.indexOf("little_endian") + "little_endian".length();
        // after the key: BINPUT n, then NEWTRUE (0x88) -> NEWFALSE (0x89)
        int flag = s.indexOf('\u0088', at);
        b[flag] = (byte) 0x89;
        Path be = Files.write(dir.resolve("be2.bin"), b);
        FormatException e = catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(be).close());
        assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
        assertThat(e.getMessage()).contains("big-endian");
    }
}

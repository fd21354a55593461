package dev.ckpt.formats.torch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Hostile and broken .bin files: each ends in one FormatException, nothing runs, nothing blows up. */
class HostileTorchBinTest {
    @TempDir
    Path dir;
    private int counter;

    private Path zip(byte[] pickle, byte[]... storages) throws IOException {
        return PickleBytes.zip(dir.resolve("m" + (counter++) + ".bin"), pickle, storages);
    }

    private FormatException fails(Path file) {
        return catchThrowableOfType(FormatException.class, () -> TorchBinFile.open(file).close());
    }

    private FormatException fails(Path file, PickleLimits limits) {
        return catchThrowableOfType(FormatException.class,
                () -> TorchBinFile.open(file, TorchBinFile.Options.DEFAULTS, limits).close());
    }

    @ParameterizedTest
    @CsvSource({"os,system", "builtins,eval", "subprocess,Popen", "posix,system", "__builtin__,exec",
            "torch,load", "numpy.core.multiarray,_reconstruct", "collections,defaultdict"})
    void refusesEveryGlobalOutsideTheAllowList(String module, String name) throws Exception {
        byte[] pkl = PickleBytes.proto2().global(module, name).str("touch /tmp/pwned").op(0x85).op('R').op('.').bytes();
        Path file = zip(pkl);
        FormatException e = fails(file);
        assertThat(e).isInstanceOf(UnsafePickleException.class);
        assertThat(e.kind()).isEqualTo(Kind.UNSAFE_PICKLE);
        assertThat(e.getMessage()).isEqualTo("refusing to load " + file + ": pickle references " + module + "." + name
                + ", which is not part of a tensor state dict".replace("__builtin__.", "__builtin__."));
    }

    @Test
    void stackGlobalIsCheckedTooAndRefusedBeforeAnyCall() throws Exception {
        // STACK_GLOBAL os.system followed by bytes that are not even valid pickle: refused at the global
        byte[] pkl = PickleBytes.proto2().shortStr("os").shortStr("system").op(0x93).op(0xff).bytes();
        FormatException e = fails(zip(pkl));
        assertThat(e).isInstanceOf(UnsafePickleException.class);
        assertThat(((UnsafePickleException) e).global()).isEqualTo("os.system");
    }

    @Test
    void reduceOnAnythingButAnAllowedCallableIsCorrupt() throws Exception {
        byte[] pkl = PickleBytes.proto2().op(')').op(')').op('R').op('.').bytes();
        FormatException e = fails(zip(pkl));
        assertThat(e.kind()).isEqualTo(Kind.INVALID_VALUE);
        assertThat(e.getMessage()).contains("corrupt pickle in archive/data.pkl at byte 4: REDUCE calls a tuple");
    }

    @Test
    void allowedButUnreadGlobalsSayUnsupported() throws Exception {
        byte[] pkl = PickleBytes.proto2().global("torch._utils", "_rebuild_qtensor").op(')').op('R').op('.').bytes();
        assertThat(fails(zip(pkl)).kind()).isEqualTo(Kind.UNSUPPORTED);
    }

    @Test
    void deepNestingIsBoundedWithoutStackOverflow() throws Exception {
        byte[] marks = PickleBytes.proto2().repeat(200_000, '(').bytes();
        assertThat(fails(zip(marks)).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
        byte[] tuples = PickleBytes.proto2().op(')').repeat(200_000, 0x85).op('.').bytes();
        assertThat(fails(zip(tuples)).getMessage()).contains("nesting depth limit of 64");
        byte[] lists = PickleBytes.proto2().op(']').repeat(200_000, ']', 0x86).op('.').bytes();
        assertThat(fails(zip(lists)).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
    }

    @Test
    void billionLaughsIsStoppedByTheExpandedSizeLimit() throws Exception {
        // l0 = []; l(k+1) = [lk]*10 through memo references: 10^40 objects if expanded
        PickleBytes p = PickleBytes.proto2().op(']').op('q').op(0);
        for (int k = 0; k < 40; k++) {
            p.op(']').op('(').repeat(10, 'h', k).op('e').op('q').op(k + 1);
        }
        FormatException e = fails(zip(p.op('.').bytes()));
        assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
        assertThat(e.getMessage()).contains("expanded object count");
    }

    @Test
    void hugeMemoAndStackAreBounded() throws Exception {
        PickleBytes memo = PickleBytes.proto2().op('N');
        for (int i = 0; i < 5_000; i++) {
            memo.op('r').le32(i * 7919);
        }
        PickleLimits small = new PickleLimits(1_000, 1_000, 64, 1 << 20, 1 << 20, 16);
        assertThat(fails(zip(memo.op('.').bytes()), small).getMessage()).contains("memo size limit of 1000");
        byte[] stack = PickleBytes.proto2().repeat(5_000, 'N').op('.').bytes();
        assertThat(fails(zip(stack), small).getMessage()).contains("stack size limit of 1000");
        byte[] bigString = PickleBytes.proto2().op('X').le32(Integer.MAX_VALUE).op('.').bytes();
        assertThat(fails(zip(bigString), small).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
        byte[] farIndex = PickleBytes.proto2().op('N').op('r').le32(-1).op('.').bytes();
        assertThat(fails(zip(farIndex)).getMessage()).contains("memo size limit of 4194304");
        byte[] unstored = PickleBytes.proto2().op('h').op(5).op('.').bytes();
        assertThat(fails(zip(unstored)).getMessage()).contains("memo index 5 was never stored");
    }

    private static PickleBytes tensorPickle(String size, String stride, int numel) {
        PickleBytes p = PickleBytes.proto2().op('}').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                .floatStorage("0", numel).integer(0);
        dims(p, size);
        dims(p, stride);
        return p.op(0x89).global("collections", "OrderedDict").op(')').op('R').op('t').op('R').op('s').op('.');
    }

    private static void dims(PickleBytes p, String csv) {
        p.op('(');
        for (String d : csv.split(" ")) {
            long v = Long.parseLong(d);
            if (v > Integer.MAX_VALUE) {
                p.op(0x8a).op(8);
                for (int i = 0; i < 8; i++) {
                    p.op((int) (v >>> (8 * i)) & 0xff);
                }
            } else {
                p.integer((int) v);
            }
        }
        p.op('t');
    }

    @Test
    void oversizedShapesAndOutOfStorageViewsAreRefused() throws Exception {
        Path overflow = zip(tensorPickle("4294967296 4294967296 4294967296", "1 1 1", 4).bytes(), new byte[16]);
        assertThat(fails(overflow).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
        Path outside = zip(tensorPickle("2 3", "3 1", 4).bytes(), new byte[16]);
        FormatException e = fails(outside);
        assertThat(e.kind()).isEqualTo(Kind.INVALID_OFFSET);
        assertThat(e.getMessage()).contains("reaches byte 24 of storage data/0, which has 16");
        Path rank = zip(tensorPickle(String.join(" ", Collections.nCopies(40, "1")),
                String.join(" ", Collections.nCopies(40, "1")), 4).bytes(), new byte[16]);
        assertThat(fails(rank).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
        Path shortRecord = zip(tensorPickle("2 2", "2 1", 4).bytes(), new byte[15]);
        assertThat(fails(shortRecord).getMessage()).contains("data/0 has 15 bytes but the pickle declares 4 F32");
        Path missingRecord = zip(tensorPickle("2 2", "2 1", 4).bytes());
        assertThat(fails(missingRecord).getMessage()).contains("data/0 referenced by the pickle is missing");
    }

    private Path validFile() throws IOException {
        Path file = Files.createTempFile(dir, "ok", ".bin");
        Files.delete(file);
        new TorchSaveWriter("archive").tensor("a", DType.F32, new long[] {16, 16}, t -> { })
                .tensor("b", DType.BF16, new long[] {8}, t -> { }).write(file);
        return file;
    }

    @Test
    void truncatedArchivesFailCleanly() throws Exception {
        byte[] ok = Files.readAllBytes(validFile());
        for (int cut : new int[] {0, 3, 21, 100, ok.length / 2, ok.length - 23, ok.length - 1}) {
            Path file = Files.write(dir.resolve("cut" + cut + ".bin"), Arrays.copyOf(ok, cut));
            assertThat(fails(file)).as("cut at " + cut).isNotNull();
        }
        Path t = Files.write(dir.resolve("t.bin"), Arrays.copyOf(ok, ok.length - 1));
        assertThat(fails(t).getMessage()).contains("truncated");
    }

    @Test
    void outOfRangeEntryOffsetsAreRefused() throws Exception {
        byte[] ok = Files.readAllBytes(validFile());
        ByteBuffer b = ByteBuffer.wrap(ok).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = ok.length - 22;
        int cd = b.getInt(eocd + 16);
        byte[] badLocal = ok.clone();
        ByteBuffer.wrap(badLocal).order(ByteOrder.LITTLE_ENDIAN).putInt(cd + 42, 0x7fff_0000);
        assertThat(fails(Files.write(dir.resolve("l.bin"), badLocal)).getMessage()).contains("local header");
        byte[] badSize = ok.clone();
        ByteBuffer.wrap(badSize).order(ByteOrder.LITTLE_ENDIAN).putInt(cd + 20, 0x7fff_0000).putInt(cd + 24, 0x7fff_0000);
        assertThat(fails(Files.write(dir.resolve("s.bin"), badSize)).getMessage()).contains("past the end");
        // the zip64 end record (56 bytes) and locator (20) sit before the classic record
        int z64 = eocd - 20 - 56;
        byte[] badCd = ok.clone();
        ByteBuffer.wrap(badCd).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 16, ok.length).putLong(z64 + 48, ok.length);
        assertThat(fails(Files.write(dir.resolve("c.bin"), badCd)).getMessage()).contains("lies outside the");
        byte[] disagree = ok.clone();
        ByteBuffer.wrap(disagree).order(ByteOrder.LITTLE_ENDIAN).putInt(eocd + 16, cd + 1);
        assertThat(fails(Files.write(dir.resolve("d.bin"), disagree)).getMessage()).contains("disagree");
    }

    @Test
    void legacyTarAndForeignFilesAreNamed() throws Exception {
        byte[] legacy = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
                0x6a, (byte) 0xa8, 0x50, 0x19, '.'};
        FormatException e = fails(Files.write(dir.resolve("old.bin"), legacy));
        assertThat(e.kind()).isEqualTo(Kind.TRUNCATED); // a legacy stream that stops after its magic number
        assertThat(e.getMessage()).contains("protocol version pickle is truncated");
        byte[] tar = new byte[1024];
        System.arraycopy("ustar".getBytes(), 0, tar, 257, 5);
        assertThat(fails(Files.write(dir.resolve("tar.bin"), tar)).getMessage()).contains("tar-format");
        FormatException other = fails(Files.write(dir.resolve("x.bin"), "hello world".getBytes()));
        assertThat(other.kind()).isEqualTo(Kind.UNREADABLE);
        assertThat(other.getMessage()).contains("not a torch.save checkpoint").contains("68656c6c6f20776f");
    }

    @Test
    void randomCorruptionOnlyEverYieldsFormatExceptions() throws Exception {
        byte[] zip = Files.readAllBytes(validFile());
        Path legacyFile = dir.resolve("legacy.bin");
        new TorchSaveWriter("archive").tensor("a", DType.F32, new long[] {4, 4}, t -> { })
                .tensor("b", DType.BF16, new long[] {8}, t -> { }).writeLegacy(legacyFile);
        byte[] legacy = Files.readAllBytes(legacyFile);
        Random random = new Random(42);
        int iterations = Integer.getInteger("ckpt.fuzzIterations", 300);
        for (int i = 0; i < iterations; i++) {
            byte[] ok = i % 2 == 0 ? zip : legacy;
            byte[] bad = ok.clone();
            int flips = 1 + random.nextInt(4);
            for (int j = 0; j < flips; j++) {
                // half of the flips land in the pickle (the first ~600 bytes), the rest anywhere
                int at = random.nextBoolean() ? random.nextInt(Math.min(600, bad.length)) : random.nextInt(bad.length);
                bad[at] = (byte) random.nextInt(256);
            }
            Path file = Files.write(dir.resolve("fuzz.bin"), bad);
            try (TorchBinFile f = TorchBinFile.open(file)) {
                for (var t : f.tensors()) {
                    assertThat(f.view(t.name()).data().byteSize()).isEqualTo(t.byteSize());
                }
            } catch (FormatException expected) {
                assertThat(expected.getMessage()).doesNotContain("\n");
            }
        }
    }

    @Test
    void unsafeMessageNeverCarriesControlCharacters() throws Exception {
        byte[] pkl = PickleBytes.proto2().global("os\u001b[31m", "system").op('.').bytes();
        assertThatThrownBy(() -> TorchBinFile.open(zip(pkl))).hasMessageContaining("os?[31m.system");
    }
}

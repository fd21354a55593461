package dev.ckpt.formats.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir
    Path dir;

    private static GgufWriter.Tensor f32(String name, long[] ne, float base) {
        return new GgufWriter.Tensor(name, GgmlType.F32, ne, GgufWriter.TensorSource.of(target -> {
            for (long i = 0; i < target.byteSize() / 4; i++) {
                target.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, base + i);
            }
        }));
    }

    private Path sample(int alignment) throws IOException {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.of("llama"));
        md.put("llama.block_count", GgufValue.u32(2));
        md.put("x.f", new GgufValue.Float32(1.5f));
        md.put("x.b", new GgufValue.Bool(true));
        md.put("x.i64", new GgufValue.Int64(-5));
        md.put("x.d", new GgufValue.Float64(2.25));
        md.put("x.u8", new GgufValue.UInt8(200));
        md.put("x.i8", new GgufValue.Int8((byte) -3));
        md.put("x.u16", new GgufValue.UInt16(65535));
        md.put("x.i16", new GgufValue.Int16((short) -300));
        md.put("x.u64", new GgufValue.UInt64(-1L));
        md.put("x.i32", new GgufValue.Int32(-7));
        md.put("tokens", GgufValue.strings(List.of("a", "bé", "")));
        md.put("scores", GgufValue.floats(new float[] {0.5f, -1f}));
        Path p = dir.resolve("m-" + alignment + ".gguf");
        GgufWriter.write(p, md, List.of(f32("a.weight", new long[] {3, 2}, 0), f32("b", new long[] {5}, 100),
                new GgufWriter.Tensor("q", GgmlType.Q8_0, new long[] {64, 2}, GgufWriter.TensorSource.of(t -> t.fill((byte) 1)))),
                new GgufWriter.Options(alignment, false, 2));
        return p;
    }

    @Test
    void roundTripsMetadataAndTensors() throws IOException {
        for (int alignment : new int[] {32, 64}) {
            Path p = sample(alignment);
            try (GgufFile f = GgufFile.open(p)) {
                assertEquals(alignment, f.alignment());
                assertEquals("llama", ((GgufValue.Str) f.metadata().get("general.architecture")).value());
                assertEquals(new GgufValue.Float32(1.5f), f.metadata().get("x.f"));
                assertEquals(new GgufValue.UInt64(-1L), f.metadata().get("x.u64"));
                assertEquals(GgufValue.strings(List.of("a", "bé", "")), f.metadata().get("tokens"));
                assertEquals(List.of("general.architecture", "llama.block_count"),
                        f.metadata().keySet().stream().limit(2).toList());
                assertEquals(3, f.tensors().size());
                assertEquals(DType.F32, f.tensors().get(0).dtype());
                assertEquals(Shape.of(2, 3), f.tensors().get(0).shape());
                assertEquals(Shape.of(2, 68), f.tensors().get(2).shape(), "quantized: raw rows of block bytes");
                assertEquals(DType.U8, f.tensors().get(2).dtype());
                MemorySegment a = f.view("a.weight").data();
                assertEquals(5f, a.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 5));
                assertEquals(104f, f.view("b").data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 4));
                for (GgufTensorInfo t : f.ggufTensors()) {
                    assertEquals(0, t.offset() % alignment);
                }
            }
        }
    }

    @Test
    void reportsProgressPerTensor() throws IOException {
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        dev.ckpt.formats.ProgressListener l = new dev.ckpt.formats.ProgressListener() {
            public void started(int n, long bytes) {
                events.add("start " + n + " " + bytes);
            }

            public void tensorWritten(dev.ckpt.formats.TensorInfo t, int done, long doneBytes) {
                events.add("tensor " + done);
            }

            public void finished(dev.ckpt.formats.WriteReport r) {
                events.add("end " + r.tensorCount());
            }
        };
        GgufWriter.write(dir.resolve("p.gguf"), Map.of(), List.of(f32("a", new long[] {4, 4}, 0), f32("b", new long[] {8}, 0)),
                new GgufWriter.Options(32, false, 2), l);
        assertEquals(List.of("start 2 96", "tensor 1", "tensor 2", "end 2"), events);
    }

    @Test
    void refusesToOverwriteWithoutForce() throws IOException {
        Path p = sample(32);
        assertThrows(FileAlreadyExistsException.class, () -> GgufWriter.write(p, Map.of(), List.of(),
                new GgufWriter.Options(32, false, 1)));
        GgufWriter.write(p, Map.of(), List.of(), new GgufWriter.Options(32, true, 1));
        try (GgufFile f = GgufFile.open(p)) {
            assertTrue(f.tensors().isEmpty());
        }
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temp files left behind");
        }
    }

    @Test
    void outputGetsTheModeOfAnyNewFileNotAPrivateTempFileMode() throws IOException {
        Path p = sample(32);
        Path plain = Files.createFile(dir.resolve("plain")); // mode from the umask, as cp or safetensors outputs get
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(p));
    }

    @Test
    void anOutputThatCannotFitIsRefusedBeforeWritingAndAFaultedMappedWriteIsAnIoError() throws IOException {
        // the file system's own numbers: nothing can need Long.MAX_VALUE bytes and fit
        dev.ckpt.formats.OutOfSpaceException e = assertThrows(dev.ckpt.formats.OutOfSpaceException.class,
                () -> dev.ckpt.formats.OutOfSpaceException.requireSpace(dir, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("usable: free space or choose another --out"), e.getMessage());
        // a mapped write that faults (here: another process truncates the file under the mapping; on a full disk
        // the kernel raises the same SIGBUS) ends as an IOException, not as the JDK's InternalError
        Path out = dir.resolve("faulted.gguf");
        GgufWriter.TensorSource truncating = GgufWriter.TensorSource.of(seg -> {
            try (var files = Files.list(dir)) {
                Path tmp = files.filter(f -> f.getFileName().toString().startsWith(".faulted.gguf.")).findFirst().orElseThrow();
                try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                    ch.truncate(0);
                }
            }
            seg.fill((byte) 1);
        });
        IOException io = assertThrows(IOException.class, () -> GgufWriter.write(out, Map.of(),
                List.of(new GgufWriter.Tensor("t", GgmlType.F32, new long[] {4096}, truncating)), new GgufWriter.Options(32, false, 1)));
        assertTrue(io instanceof dev.ckpt.formats.OutOfSpaceException, io.toString());
        assertTrue(io.getMessage().contains("faulted: the disk is full"), io.getMessage());
        assertTrue(Files.notExists(out));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".faulted")), "temp file removed");
        }
    }

    private Kind kindOf(byte[] bytes) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, bytes);
        FormatException e = assertThrows(FormatException.class, () -> GgufFile.open(p).close());
        assertTrue(e.getMessage().startsWith("bad.gguf: "), e.getMessage());
        return e.kind();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void rejectsMalformedHeaders() throws IOException {
        byte[] good = Files.readAllBytes(sample(32));
        assertEquals(Kind.HEADER_TOO_SMALL, kindOf(new byte[10]));
        byte[] b = good.clone();
        b[0] = 'X';
        assertEquals(Kind.INVALID_HEADER, kindOf(b));
        b = good.clone();
        b[4] = 2;
        assertEquals(Kind.UNSUPPORTED, kindOf(b));
        b = good.clone();
        b[4] = 0;
        b[7] = 3;
        assertEquals(Kind.UNSUPPORTED, kindOf(b), "big-endian version");
        b = good.clone();
        b[15] = 0x7f;
        assertEquals(Kind.LIMIT_EXCEEDED, kindOf(b), "tensor count");
        // truncated anywhere in the header or data
        for (int cut : new int[] {30, 60, 200, good.length - 40}) {
            byte[] t = java.util.Arrays.copyOf(good, cut);
            Kind k = kindOf(t);
            assertTrue(k == Kind.TRUNCATED || k == Kind.INCOMPLETE_BUFFER, cut + ": " + k);
        }
    }

    @Test
    void rejectsBadTensorInfos() throws IOException {
        // header with one kv-less tensor built by hand: name, dims, type, offset
        assertEquals(Kind.TENSOR_INVALID_INFO, kindOf(oneTensor("t", new long[] {1, 1, 1, 1, 1}, 0, 0)));
        assertEquals(Kind.UNKNOWN_DTYPE, kindOf(oneTensor("t", new long[] {4}, 4, 0)));
        assertEquals(Kind.TENSOR_INVALID_INFO, kindOf(oneTensor("t", new long[] {31}, 8, 0)));
        // names from the file are quoted with their control characters (NUL, newline, terminal escape) as '?'
        Path named = dir.resolve("named.gguf");
        Files.write(named, oneTensor("a\u0000b\nc\u001b[31m", new long[] {31}, 8, 0));
        FormatException named31 = assertThrows(FormatException.class, () -> GgufFile.open(named).close());
        assertTrue(named31.getMessage().contains("tensor a?b?c?[31m: 31 columns"), named31.getMessage());
        assertTrue(named31.getMessage().codePoints().noneMatch(Character::isISOControl), named31.getMessage());
        // a 0-dim Q8_0 tensor: accepted before (one 34-byte block), then opening it threw ArithmeticException
        assertEquals(Kind.TENSOR_INVALID_INFO, kindOf(oneTensor("t", new long[] {}, 8, 0)));
        assertEquals(Kind.INVALID_OFFSET, kindOf(oneTensor("t", new long[] {4}, 0, 32)));
        assertEquals(Kind.VALIDATION_OVERFLOW, kindOf(oneTensor("t", new long[] {1L << 40, 1L << 30}, 0, 0)));
        // no elements, but [0, 2^40, 2^40] overflowed as soon as a view counted them outermost first
        assertEquals(Kind.VALIDATION_OVERFLOW, kindOf(oneTensor("t", new long[] {0, 1L << 40, 1L << 40}, 0, 0)));
        assertEquals(Kind.INCOMPLETE_BUFFER, kindOf(oneTensor("t", new long[] {1000}, 0, 0)));
        assertEquals(Kind.TENSOR_INVALID_INFO, kindOf(oneTensor("x".repeat(64), new long[] {4}, 0, 0)));
    }

    @Test
    void rejectsDuplicateKeysAndNestedArrays() throws IOException {
        ByteBuffer b = le(200);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(2);
        for (int i = 0; i < 2; i++) {
            b.putLong(1).put((byte) 'k').putInt(4).putInt(1);
        }
        assertEquals(Kind.INVALID_HEADER, kindOf(java.util.Arrays.copyOf(b.array(), b.position())));
        b = le(200);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(1);
        b.putLong(1).put((byte) 'k').putInt(9).putInt(9).putLong(0);
        assertEquals(Kind.UNSUPPORTED, kindOf(java.util.Arrays.copyOf(b.array(), b.position())));
        b = le(200);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(1);
        b.putLong(17).put("general.alignment".getBytes()).putInt(4).putInt(48);
        assertEquals(Kind.INVALID_VALUE, kindOf(java.util.Arrays.copyOf(b.array(), b.position())));
        b = le(200);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(1);
        b.putLong(1L << 40).put((byte) 'k');
        assertEquals(Kind.LIMIT_EXCEEDED, kindOf(java.util.Arrays.copyOf(b.array(), b.position())));
    }

    private static byte[] oneTensor(String name, long[] ne, int type, long offset) {
        ByteBuffer b = le(4096);
        b.putInt(0x46554747).putInt(3).putLong(1).putLong(0);
        b.putLong(name.length()).put(name.getBytes()).putInt(ne.length);
        for (long d : ne) {
            b.putLong(d);
        }
        b.putInt(type).putLong(offset);
        int end = (b.position() + 31) & -32;
        return java.util.Arrays.copyOf(b.array(), end + 64);
    }

    @Test
    void typeTableMatchesGgml() {
        assertEquals(GgmlType.Q4_K, GgmlType.byId(12));
        assertEquals(GgmlType.BF16, GgmlType.byId(30));
        assertEquals(null, GgmlType.byId(4));
        assertEquals(144, GgmlType.Q4_K.rowBytes(256));
        assertArrayEquals(new long[] {4, 3}, GgufTensorInfo.neOf(Shape.of(3, 4)));
    }
}

package dev.ckpt.tools.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.tools.quant.BlockCodec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Row sources as quantize streams them: the right rows, at any offset, and every row read released. */
class RowSourceTest {
    /** Row r holds r * 1000 + column; remembers every release. */
    private static final class Recording implements RowSource {
        final List<long[]> released = new ArrayList<>();
        private final long rows;
        private final int cols;

        Recording(long rows, int cols) {
            this.rows = rows;
            this.cols = cols;
        }

        public long rows() {
            return rows;
        }

        public int rowLength() {
            return cols;
        }

        public void read(long row, float[] dst) {
            read(row, dst, 0);
        }

        public void read(long row, float[] dst, int dstOff) {
            for (int c = 0; c < cols; c++) {
                dst[dstOff + c] = row * 1000 + c;
            }
        }

        public synchronized void release(long from, long to) {
            released.add(new long[] {from, to});
        }
    }

    @Test
    void reorderedSourceReadsThePermutedRowsAtAnyOffset() {
        RopePermutation p = new RopePermutation(32, 4);
        RowSource src = new Recording(32, 3).reordered(p::sourceOf);
        float[] row = new float[3];
        float[] wide = new float[8];
        for (long r = 0; r < 32; r++) {
            src.read(r, row);
            src.read(r, wide, 5);
            assertThat(row).containsExactly(p.sourceOf(r) * 1000f, p.sourceOf(r) * 1000f + 1, p.sourceOf(r) * 1000f + 2);
            assertThat(wide).startsWith(0f, 0f, 0f, 0f, 0f).endsWith(row);
        }
    }

    @Test
    void reorderedSourceReleasesEverySourceRowOfTheRange() {
        RopePermutation p = new RopePermutation(64, 4); // heads of 16 rows
        Recording base = new Recording(64, 2);
        RowSource src = base.reordered(p::sourceOf);
        src.release(16, 32); // head 1: source rows 16..31 in another order
        assertThat(base.released).hasSize(1);
        assertThat(base.released.getFirst()).containsExactly(16, 32);
        src.release(5, 6);  // output row 5 = source row 10 (head 0, second half)
        assertThat(base.released.getLast()).containsExactly(p.sourceOf(5), p.sourceOf(5) + 1);
    }

    @Test
    void encoderReleasesEachChunkAndTheTwoBefore() throws Exception {
        int n = 1024; // 4 KiB of f32 per row: 1024 rows per 4 MiB chunk
        long per = RowEncoder.rowsPerChunk(n);
        long rows = 5 * per + 7;
        Recording base = new Recording(rows, n);
        GgmlType type = GgmlType.Q8_0;
        var sink = new RowEncoder(type).source(base);
        assertThat(sink.chunkCount()).isEqualTo(6);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(type.rowBytes(n) * rows);
            for (int c = 0; c < sink.chunkCount(); c++) {
                sink.fill(c, out);
                long start = c * per;
                long end = Math.min(rows, start + per);
                // this chunk's own release reaches two chunks back (folio tails that neighbours mapped again)
                assertThat(base.released.getLast()).as("chunk %d", c).containsExactly(Math.max(0, start - 2 * per), end);
            }
            // the bytes are the codec's, row by row
            float[] row = new float[n];
            byte[] want = new byte[(int) type.rowBytes(n)];
            base.read(rows - 1, row);
            BlockCodec.of(type).quantize(row, 0, n, want, 0);
            byte[] got = out.asSlice(type.rowBytes(n) * (rows - 1), want.length).toArray(ValueLayout.JAVA_BYTE);
            assertThat(got).isEqualTo(want);
        }
    }

    @Test
    void quantizedGgufRowsDequantizeAtAnyOffset() {
        int n = 64;
        GgmlType type = GgmlType.Q8_0;
        long rowBytes = type.rowBytes(n);
        BlockCodec codec = BlockCodec.of(type);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(3 * rowBytes);
            float[] x = new float[n];
            byte[] q = new byte[(int) rowBytes];
            for (int r = 0; r < 3; r++) {
                for (int i = 0; i < n; i++) {
                    x[i] = (r + 1) * (i - 31.5f);
                }
                codec.quantize(x, 0, n, q, 0);
                MemorySegment.copy(q, 0, bytes, ValueLayout.JAVA_BYTE, r * rowBytes, q.length);
            }
            RowSource src = RowSource.ofGguf(new GgufTensorInfo("t", type, new long[] {n, 3}, 0), bytes);
            float[] a = new float[n];
            float[] b = new float[n + 7];
            for (int r = 0; r < 3; r++) {
                src.read(r, a);
                src.read(r, b, 7);
                float[] want = new float[n];
                codec.dequantize(bytes.asSlice(r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE), 0, n, want, 0);
                assertThat(a).containsExactly(want);
                assertThat(b).endsWith(want);
            }
        }
    }
}

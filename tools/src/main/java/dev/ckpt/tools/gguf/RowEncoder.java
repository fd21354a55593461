package dev.ckpt.tools.gguf;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufWriter;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.tools.quant.BlockCodec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Encodes f32 rows as a ggml type and turns a {@link RowSource} into a chunked
 * {@link GgufWriter.TensorSource}: chunks are row ranges of about {@link #CHUNK_BYTES} input, filled
 * in parallel by the writer's workers. Scratch rows and codes are per-thread arrays reused across chunks
 * (no garbage per chunk), and every chunk releases the mapped pages it read and wrote.
 */
public final class RowEncoder {
    /** Target f32 bytes per chunk. */
    public static final long CHUNK_BYTES = 4L << 20;
    /** Target elements per codec call (whole rows, at least one). */
    static final int BATCH_ELEMENTS = 16384;
    /** Chunks before the current one whose pages are released again (see {@code fill}). */
    static final int RELEASE_BEHIND_CHUNKS = 2;

    private final GgmlType type;
    private final BlockCodec codec;
    private final DType dtype;

    public RowEncoder(GgmlType type) {
        this.type = type;
        this.codec = type.isQuantized() ? BlockCodec.of(type) : null;
        this.dtype = type.isQuantized() ? null : type.dtype();
        if (!type.isQuantized() && (dtype == null || !FloatCodec.supports(dtype))) {
            throw new IllegalArgumentException("cannot encode rows as " + type);
        }
    }

    /** Encodes one row of {@code n} values at {@code off} of {@code target}; scratch holds ≥ one row of blocks. */
    public void encode(float[] row, int n, MemorySegment target, long off, byte[] scratch) {
        if (codec == null) {
            FloatCodec.encode(row, 0, n, dtype, target, off);
        } else {
            codec.quantize(row, 0, n, scratch, 0);
            MemorySegment.copy(scratch, 0, target, ValueLayout.JAVA_BYTE, off, (int) type.rowBytes(n));
        }
    }

    /** Rows per chunk for rows of {@code rowLength} elements. */
    static long rowsPerChunk(long rowLength) {
        return Math.max(1, CHUNK_BYTES / Math.max(1, 4L * rowLength));
    }

    /** Chunks of a tensor of {@code rows} rows of {@code rowLength} elements. */
    static int chunkCount(long rows, long rowLength) {
        long per = rowsPerChunk(rowLength);
        return (int) Math.max(1, (rows + per - 1) / per);
    }

    /** A writer source producing {@code src} encoded as this type, in row-range chunks. */
    public GgufWriter.TensorSource source(RowSource src) {
        int n = src.rowLength();
        long rows = src.rows();
        long rowsPerChunk = rowsPerChunk(n);
        int chunks = chunkCount(rows, n);
        long rowBytes = type.rowBytes(n);
        return new GgufWriter.TensorSource() {
            public int chunkCount() {
                return chunks;
            }

            public void fill(int chunk, MemorySegment tensorBytes) {
                long start = chunk * rowsPerChunk;
                long end = Math.min(rows, start + rowsPerChunk);
                if (codec == null) {
                    float[] row = ScratchArrays.ENCODER.floats(n);
                    for (long r = start; r < end; r++) {
                        src.read(r, row);
                        encode(row, n, tensorBytes, r * rowBytes, null);
                    }
                } else {
                    // several rows per codec call: blocks never span rows, so quantizing consecutive rows
                    // at once gives the same bytes, and the row-wide lane searches get longer loops
                    int batch = (int) Math.max(1, Math.min(end - start, BATCH_ELEMENTS / Math.max(1, n)));
                    float[] rowsBuf = ScratchArrays.ENCODER.floats(batch * n);
                    byte[] scratch = ScratchArrays.ENCODER.bytes((int) (batch * rowBytes));
                    for (long r = start; r < end; r += batch) {
                        int k = (int) Math.min(batch, end - r);
                        for (int i = 0; i < k; i++) {
                            src.read(r + i, rowsBuf, i * n);
                        }
                        codec.quantize(rowsBuf, 0, k * n, scratch, 0);
                        MemorySegment.copy(scratch, 0, tensorBytes, ValueLayout.JAVA_BYTE, r * rowBytes,
                                (int) (k * rowBytes));
                    }
                }
                // Drop this chunk's input and output pages from the resident set, and those of the two chunks
                // before it: a fault maps a whole page-cache folio (up to 2 MiB), so pages of a chunk released
                // earlier come back when a neighbour faults; the workers run chunks in about ascending order.
                long from = Math.max(0, start - RELEASE_BEHIND_CHUNKS * rowsPerChunk);
                src.release(from, end);
                MappedMemory.release(tensorBytes.asSlice(from * rowBytes, (end - from) * rowBytes));
            }
        };
    }
}

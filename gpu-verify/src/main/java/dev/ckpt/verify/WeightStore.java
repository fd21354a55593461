package dev.ckpt.verify;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves the tensors of one {@link WeightSource} into engine arrays on one device, in one compute
 * dtype, and records which names were consumed. On the CPU an F32 (or kept-F16) tensor aliases
 * its mapped bytes (no copy at all); F16 is widened by the engine; BF16 is widened in Java into
 * native memory owned by this store (the engine crashes on BF16). Everything is released by
 * {@link #close()}, which must run before the source is closed. Not thread-safe.
 */
public final class WeightStore implements AutoCloseable {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Largest single engine buffer; bigger tensors are moved in row blocks (ByteBuffer limit). */
    private static final long MAX_CHUNK_BYTES = 1L << 30;

    private final WeightSource source;
    private final NDManager manager;
    private final DataType computeType;
    private final Map<String, TensorInfo> infos = new HashMap<>();
    private final Set<String> used = new LinkedHashSet<>();
    private final List<Arena> widened = new ArrayList<>();
    private NDManager hostStaging;
    private long f16Overflows;
    private long loadedBytes;

    /**
     * @param manager owner of every loaded array (closed by this store)
     * @param computeType {@link DataType#FLOAT32} or {@link DataType#FLOAT16}
     */
    public WeightStore(WeightSource source, NDManager manager, DataType computeType) {
        this.source = source;
        this.manager = manager;
        this.computeType = computeType;
        for (TensorInfo t : source.tensors()) {
            infos.put(t.name(), t);
        }
    }

    public DataType computeType() {
        return computeType;
    }

    public Device device() {
        return manager.getDevice();
    }

    public NDManager manager() {
        return manager;
    }

    public boolean has(String name) {
        return infos.containsKey(name);
    }

    /** Metadata of a tensor present in the source. */
    public TensorInfo info(String name) throws FormatException {
        TensorInfo t = infos.get(name);
        if (t == null) {
            throw new FormatException(source.root(), Kind.MISSING_TENSOR, "tensor '" + name + "' is missing");
        }
        return t;
    }

    /**
     * Loads a tensor and checks its shape.
     *
     * @param expected the shape the config implies
     * @throws FormatException when missing, of another shape, or not a float type
     */
    public NDArray load(String name, long... expected) throws IOException {
        TensorInfo t = info(name);
        if (!Arrays.equals(t.shape().dims(), expected)) {
            throw new FormatException(source.root(), Kind.MISMATCH, "tensor '" + name + "' has shape " + t.shape()
                    + " but config.json implies " + Arrays.toString(expected));
        }
        return load(name);
    }

    /** Loads a tensor of any shape (marked as used). */
    public NDArray load(String name) throws IOException {
        TensorInfo t = info(name);
        if (!t.dtype().isComputeFloat()) {
            throw new FormatException(source.root(), Kind.UNSUPPORTED, "tensor '" + name + "' is " + t.dtype()
                    + "; verify needs F32, F16 or BF16 weights (dequantize with 'ckpt convert' first)");
        }
        used.add(name);
        TensorView view = source.view(name);
        NDArray out = toArray(view);
        loadedBytes += out.size() * computeType.getNumOfBytes();
        return out;
    }

    /** Marks a tensor as deliberately not needed (for example CLIP layers past the selected one). */
    public void markIgnored(String name) {
        used.add(name);
    }

    /** Names in the source starting with {@code prefix}, in source order. */
    public List<String> tensorsWithPrefix(String prefix) {
        return source.tensors().stream().map(TensorInfo::name).filter(n -> n.startsWith(prefix)).toList();
    }

    /** Names of the source that nothing loaded or ignored, in source order. */
    public List<String> unused() {
        return source.tensors().stream().map(TensorInfo::name).filter(n -> !used.contains(n)).toList();
    }

    /** Bytes of engine memory the loaded weights occupy in the compute dtype. */
    public long loadedBytes() {
        return loadedBytes;
    }

    private NDArray toArray(TensorView view) throws IOException {
        TensorInfo info = view.info();
        long[] dims = info.shape().dims();
        long rows = dims.length == 0 ? 1 : dims[0];
        long rowBytes = info.byteSize() / Math.max(rows, 1);
        if (info.byteSize() <= MAX_CHUNK_BYTES || rows <= 1 || rowBytes == 0) {
            return chunk(view.data(), info.dtype(), dims);
        }
        long rowsPerChunk = Math.max(1, MAX_CHUNK_BYTES / rowBytes);
        NDList parts = new NDList();
        try {
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long n = Math.min(rowsPerChunk, rows - r);
                long[] d = dims.clone();
                d[0] = n;
                parts.add(chunk(view.data().asSlice(r * rowBytes, n * rowBytes), info.dtype(), d));
            }
            NDArray all = NDArrays.concat(parts, 0);
            all.attach(manager);
            return all;
        } finally {
            parts.close();
        }
    }

    /**
     * One contiguous block into the engine. On the CPU an array in the source dtype aliases
     * {@code bytes} (or the staging copy, which is then kept until {@link #close()}); otherwise the
     * engine copies (host to device, then dtype) and the staging memory is freed at once.
     */
    private NDArray chunk(MemorySegment bytes, DType dtype, long[] dims) {
        ai.djl.ndarray.types.Shape shape = new ai.djl.ndarray.types.Shape(dims);
        Arena staging = null;
        MemorySegment src = bytes;
        DataType srcType0 = switch (dtype) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.FLOAT32;
            default -> throw new IllegalStateException("not a compute float: " + dtype);
        };
        DataType srcType = srcType0;
        if (dtype == DType.BF16 && computeType == DataType.FLOAT16) {
            staging = Arena.ofShared();
            src = narrowBf16(bytes, staging);
            srcType = DataType.FLOAT16;
        } else if (dtype == DType.BF16) {
            staging = Arena.ofShared();
            src = widenBf16(bytes, staging);
        } else if (src.address() % srcType.getNumOfBytes() != 0) {
            staging = Arena.ofShared();
            src = staging.allocate(src.byteSize(), 64).copyFrom(src);
        }
        boolean gpu = manager.getDevice().isGpu();
        NDManager host = gpu ? hostStaging() : manager;
        NDArray raw = host.create(src.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN), shape, srcType);
        NDArray out = raw;
        if (gpu) {
            out = raw.toDevice(manager.getDevice(), true);
            out.attach(manager);
            raw.close();
        }
        if (out.getDataType() != computeType) {
            NDArray converted = out.toType(computeType, false);
            out.close();
            out = converted;
        }
        if (staging != null) {
            if (out == raw) {
                widened.add(staging); // the engine array aliases the staging memory
            } else {
                staging.close();
            }
        }
        if (out != raw || staging != null) {
            if (bytes.isMapped()) {
                bytes.unload(); // copied: let the kernel drop the file pages instead of keeping them resident
            }
        }
        return out;
    }

    private NDManager hostStaging() {
        if (hostStaging == null) {
            hostStaging = NDManager.newBaseManager(Device.cpu());
        }
        return hostStaging;
    }

    /**
     * BF16 to F16 (round to nearest even) for CPUs without room for F32; values beyond the F16
     * range become infinite and are counted ({@link #f16Overflows()}).
     */
    private MemorySegment narrowBf16(MemorySegment bf16, Arena arena) {
        long n = bf16.byteSize() / 2;
        MemorySegment f16 = arena.allocate(n * 2, 64);
        for (long i = 0; i < n; i++) {
            float v = Float.intBitsToFloat((bf16.getAtIndex(LE_SHORT, i) & 0xffff) << 16);
            short h = Float.floatToFloat16(v);
            if (Float.isFinite(v) && Float.isInfinite(Float.float16ToFloat(h))) {
                f16Overflows++;
            }
            f16.setAtIndex(LE_SHORT, i, h);
        }
        return f16;
    }

    /** Finite BF16 weights that became infinite when narrowed to F16 (0 unless computing BF16 weights in F16). */
    public long f16Overflows() {
        return f16Overflows;
    }

    /** BF16 to F32 is exact: the bf16 bits are the high half of the f32 bits. */
    private static MemorySegment widenBf16(MemorySegment bf16, Arena arena) {
        long n = bf16.byteSize() / 2;
        MemorySegment f32 = arena.allocate(n * 4, 64);
        for (long i = 0; i < n; i++) {
            f32.setAtIndex(LE_INT, i, (bf16.getAtIndex(LE_SHORT, i) & 0xffff) << 16);
        }
        return f32;
    }

    @Override
    public void close() {
        manager.close();
        if (hostStaging != null) {
            hostStaging.close();
        }
        widened.forEach(Arena::close);
        widened.clear();
    }
}

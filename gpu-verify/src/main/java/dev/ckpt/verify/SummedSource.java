package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A virtual checkpoint {@code base + delta} computed in F32 (see {@link Reference.WithDelta}).
 * Each view is computed on first request into native memory owned by this source (one F32 copy of
 * the model while it is open); owns and closes both inputs.
 */
final class SummedSource implements WeightSource {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final WeightSource base;
    private final WeightSource delta;
    private final Arena arena = Arena.ofShared();
    private final Map<String, TensorInfo> baseInfos = new HashMap<>();
    private final List<TensorInfo> tensors = new ArrayList<>();

    SummedSource(WeightSource base, WeightSource delta) {
        this.base = base;
        this.delta = delta;
        base.tensors().forEach(t -> baseInfos.put(t.name(), t));
        for (TensorInfo t : delta.tensors()) {
            tensors.add(t.dtype().isComputeFloat() ? t.withDType(DType.F32) : t);
        }
    }

    @Override
    public Path root() {
        return delta.root();
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public TensorView view(String name) throws IOException {
        TensorView d = delta.view(name);
        if (!d.info().dtype().isComputeFloat()) {
            return d;
        }
        long n = d.info().elementCount();
        MemorySegment out = arena.allocate(n * 4, 64);
        for (long i = 0; i < n; i++) {
            out.setAtIndex(LE_FLOAT, i, read(d, i));
        }
        TensorInfo b = baseInfos.get(name);
        if (b != null && b.dtype().isComputeFloat()) {
            TensorView bv = base.view(name);
            long[] bd = b.shape().dims();
            long[] dd = d.info().shape().dims();
            if (bd.length != dd.length || bd.length == 0 && dd.length != 0) {
                throw new dev.ckpt.formats.FormatException(base.root(), dev.ckpt.formats.FormatException.Kind.MISMATCH,
                        "tensor '" + name + "' has rank " + bd.length + " in the base but " + dd.length + " in the delta");
            }
            long rows = bd.length == 0 ? 1 : bd[0];
            long cols = bd.length == 0 ? 1 : b.shape().rowLength();
            long dCols = dd.length == 0 ? 1 : d.info().shape().rowLength();
            if (rows > (dd.length == 0 ? 1 : dd[0]) || cols > dCols) {
                throw new dev.ckpt.formats.FormatException(base.root(), dev.ckpt.formats.FormatException.Kind.MISMATCH,
                        "tensor '" + name + "' is " + b.shape() + " in the base, larger than " + d.info().shape() + " in the delta");
            }
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    long di = r * dCols + c;
                    out.setAtIndex(LE_FLOAT, di, out.getAtIndex(LE_FLOAT, di) + read(bv, r * cols + c));
                }
            }
        }
        return new TensorView(d.info().withDType(DType.F32), out);
    }

    private static float read(TensorView v, long i) {
        return switch (v.info().dtype()) {
            case F32 -> v.data().getAtIndex(LE_FLOAT, i);
            case F16 -> Float.float16ToFloat(v.data().getAtIndex(LE_SHORT, i));
            case BF16 -> Float.intBitsToFloat((v.data().getAtIndex(LE_SHORT, i) & 0xffff) << 16);
            default -> throw new IllegalStateException("not a float tensor: " + v.info());
        };
    }

    @Override
    public Optional<ObjectNode> config() {
        return delta.config();
    }

    @Override
    public List<String> problems() {
        List<String> p = new ArrayList<>(base.problems());
        p.addAll(delta.problems());
        return p;
    }

    @Override
    public void close() {
        arena.close();
        delta.close();
        base.close();
    }
}

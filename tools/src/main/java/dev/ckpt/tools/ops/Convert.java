package dev.ckpt.tools.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FileCopyRecipe;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.RangeRecipe;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRangeReader;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Converts a checkpoint to sharded safetensors, optionally changing the float dtype (F32/F16/BF16/F64
 * tensors; integer and bool tensors are copied as they are). Side files are copied, and config.json's
 * {@code torch_dtype} is rewritten. Tensors stream through small per-thread buffers (positional reads,
 * conversion, positional writes), so resident memory stays flat whatever the model size.
 */
public final class Convert {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * What to convert.
     *
     * @param dtype target float dtype; empty keeps every tensor's dtype
     * @param threads tensors converted in parallel (0: one per processor)
     */
    public record Options(Path source, Path out, Optional<DType> dtype, long maxShardBytes, boolean force, int threads) {
        public Options {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(out, "out");
            Objects.requireNonNull(dtype, "dtype");
            if (dtype.isPresent() && !(dtype.get() == DType.F32 || dtype.get() == DType.F16 || dtype.get() == DType.BF16)) {
                throw new IllegalArgumentException("target dtype must be f32, f16 or bf16, not " + dtype.get());
            }
            if (maxShardBytes <= 0 || threads < 0) {
                throw new IllegalArgumentException("maxShardBytes must be positive and threads >= 0");
            }
        }
    }

    /**
     * What was written.
     *
     * @param deAliased groups of source tensors that shared storage (tied weights in a .bin); each
     *                  name was written with its own copy of the bytes, as safetensors requires
     */
    public record Report(Path out, int tensorCount, int convertedTensors, long sourceBytes, WriteReport write,
                         List<List<String>> deAliased) {
    }

    private Convert() {
    }

    /**
     * Runs the conversion.
     *
     * @throws FormatException when the source is malformed or inconsistent (see {@link Checkpoint#problems()})
     * @throws java.nio.file.FileAlreadyExistsException when the output exists and {@code force} is off
     * @throws IllegalArgumentException when the output would overlap the source
     */
    public static Report run(Options o, ProgressListener listener) throws IOException {
        Path src = o.source().toAbsolutePath().normalize();
        Path out = o.out().toAbsolutePath().normalize();
        boolean overlaps = Files.isDirectory(src) ? out.startsWith(src) || src.startsWith(out) : out.equals(src) || src.startsWith(out);
        if (overlaps) {
            throw new IllegalArgumentException("output " + out + " overlaps the source " + src + "; choose another --out");
        }
        try (Checkpoint c = Checkpoint.open(src); TensorRangeReader reader = new TensorRangeReader(c)) {
            c.requireNoProblems();
            List<PlannedTensor> plan = new ArrayList<>();
            int converted = 0;
            for (TensorInfo t : c.tensors()) {
                DType to = o.dtype().filter(d -> FloatCodec.supports(t.dtype())).orElse(t.dtype());
                converted += to != t.dtype() ? 1 : 0;
                plan.add(new PlannedTensor(t.withDType(to), recipe(c, reader, t, to)));
            }
            List<SideFile> sides = new ArrayList<>();
            for (Path p : c.sideFiles()) {
                String name = p.getFileName().toString();
                if (name.equals("config.json") && o.dtype().isPresent() && c.config().isPresent()) {
                    ObjectNode cfg = c.config().get();
                    cfg.put("torch_dtype", torchDtype(o.dtype().get()));
                    sides.add(SideFile.Bytes.utf8(name, JSON.writeValueAsString(cfg) + "\n"));
                } else {
                    sides.add(SideFile.Copy.of(p));
                }
            }
            WriteReport w = CheckpointWriter.write(out, plan, sides,
                    new WriteOptions(o.maxShardBytes(), o.force(), o.threads()), listener);
            return new Report(out, plan.size(), converted, c.tensorBytes(), w, c.sharedStorages());
        }
    }

    /** PyTorch's name of a dtype, as config.json spells it. */
    public static String torchDtype(DType d) {
        return switch (d) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case F64 -> "float64";
            default -> d.name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static TensorRecipe recipe(Checkpoint c, TensorRangeReader reader, TensorInfo t, DType to) {
        ConvertRecipe convert = new ConvertRecipe(reader, t, to);
        if (to == t.dtype()) {
            // stored as is (a contiguous .bin tensor): the writer may copy it in the kernel
            return c.fileRange(t.name()).<TensorRecipe>map(r -> new FileCopyRecipe(r, convert)).orElse(convert);
        }
        return convert;
    }

    /**
     * Converts any element-aligned byte range of one tensor: the source bytes are read with positional
     * reads ({@link TensorRangeReader}) into a per-thread staging buffer of {@link #STAGING_BYTES} that
     * stays in the CPU cache, then converted into the writer's buffer.
     */
    private record ConvertRecipe(TensorRangeReader reader, TensorInfo t, DType to) implements RangeRecipe {
        @Override
        public void fillRange(long byteOffset, MemorySegment target) throws IOException {
            if (to == t.dtype()) {
                reader.read(t.name(), byteOffset, target);
                return;
            }
            int fromBytes = t.dtype().bitSize() / 8;
            int toBytes = to.bitSize() / 8;
            long first = byteOffset / toBytes;
            long count = target.byteSize() / toBytes;
            long perChunk = Math.max(1, STAGING_BYTES / fromBytes);
            for (long done = 0; done < count; done += perChunk) {
                long n = Math.min(perChunk, count - done);
                MemorySegment s = staging(n * fromBytes);
                reader.read(t.name(), (first + done) * fromBytes, s);
                FloatCodec.convert(s, t.dtype(), target.asSlice(done * toBytes, n * toBytes), to, n);
            }
        }
    }

    /** Source bytes read per conversion step: small enough to stay in a core's L2 cache. */
    static final long STAGING_BYTES = 256L << 10;

    private static final ThreadLocal<MemorySegment> STAGING = ThreadLocal.withInitial(
            () -> Arena.ofAuto().allocate(STAGING_BYTES, 64));

    private static MemorySegment staging(long bytes) {
        return STAGING.get().asSlice(0, bytes);
    }
}

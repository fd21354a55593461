package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.gguf.GgufWriter;
import dev.ckpt.formats.numeric.FloatCodec;
import dev.ckpt.tools.quant.QuantMix;
import dev.ckpt.tools.quant.QuantType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans and writes a llama GGUF from a Hugging Face Llama checkpoint or from an unquantized GGUF:
 * names mapped, Q/K rows permuted, 1-D and norm tensors F32, the rest the base type, optionally
 * quantized with llama.cpp's per-tensor mix. Tensors are written in llama.cpp's weight order (by layer,
 * then name), the order its quantizer writes and counts in. Planning reads no tensor bytes.
 */
public final class GgufExport {
    /** Base type of the non-F32 tensors ({@code convert_hf_to_gguf.py --outtype}). AUTO: the source's 16-bit type, else F16. */
    public enum OutType { AUTO, F32, F16, BF16, Q8_0 }

    /** A source of rows, opened when the tensor is written. */
    @FunctionalInterface
    public interface Rows {
        RowSource open() throws IOException;
    }

    /** One output tensor. */
    public record Entry(String name, GgmlType type, long[] ne, Rows rows) {
        public Entry {
            ne = ne.clone();
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }
    }

    /** The whole output: metadata in order, tensors in order, and notes for the user (dropped tensors). */
    public record Plan(Map<String, GgufValue> metadata, List<Entry> tensors, List<String> notes) {
        public long byteSize() {
            return tensors.stream().mapToLong(e -> e.type().byteSizeFor(e.ne())).sum();
        }
    }

    /** Start of the note about LLaVA vision tensors left out of the language model file. */
    public static final String VISION_NOTE = "LLaVA vision tower and projector";

    private GgufExport() {
    }

    /**
     * Plans a GGUF from a Hugging Face Llama checkpoint directory.
     *
     * @param quant null for a plain conversion
     * @throws FormatException when the checkpoint is not a Llama model, lacks config/tokenizer, or has unknown tensors
     */
    public static Plan fromCheckpoint(Checkpoint ck, OutType out, QuantType quant) throws IOException {
        Path cfgPath = ck.root().resolve("config.json");
        ObjectNode cfg = ck.config().orElseThrow(() -> new FormatException(ck.root(), Kind.MISSING_TENSOR,
                "no config.json: a GGUF export needs the model's hyper-parameters"));
        if (!LlamaMetadata.isLlama(cfg)) {
            throw new FormatException(cfgPath, Kind.UNSUPPORTED, "model_type " + cfg.path("model_type").asText("?")
                    + " is not a Llama-family model (GGUF export supports llama, mistral and LLaVA's language model)");
        }
        LlamaMetadata.Dims d = LlamaMetadata.dims(cfgPath, cfg);
        GgmlType base = baseType(out, ck.tensors());
        List<String> notes = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        int visionTensors = 0;
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (TensorInfo t : ck.tensors()) {
            LlamaNames.toGguf(t.name()).ifPresent(name -> shapes.put(name, t.shape().dims()));
        }
        LlamaShapes.check(cfgPath, d, shapes); // before any permutation relies on the head counts
        for (TensorInfo t : ck.tensors()) {
            String name = LlamaNames.toGguf(t.name()).orElse(null);
            if (name == null) {
                if (LlamaNames.isDropped(t.name())) {
                    continue;
                }
                if (ClipNames.isVisionPart(t.name())) {
                    visionTensors++; // LLaVA vision tower / projector: MmprojExport writes them to the mmproj GGUF
                    continue;
                }
                throw new FormatException(ck.weightFileOf(t.name()).orElse(ck.root()), Kind.UNSUPPORTED,
                        "tensor " + t.name() + " has no llama GGUF name");
            }
            if (!FloatCodec.supports(t.dtype())) {
                throw new FormatException(ck.root(), Kind.UNKNOWN_DTYPE, "tensor " + t.name() + " is " + t.dtype()
                        + "; GGUF export reads F32, F16, BF16 and F64");
            }
            long[] dims = t.shape().dims();
            long[] ne = GgufTensorInfo.neOf(t.shape());
            GgmlType type = dims.length <= 1 || name.endsWith("_norm.weight") ? GgmlType.F32
                    : base == GgmlType.Q8_0 && ne[0] % 32 != 0 ? GgmlType.F16 : base;
            RopePermutation perm = null;
            if (name.matches("blk\\.\\d+\\.attn_[qk]\\.(weight|bias)")) {
                perm = new RopePermutation(dims[0], name.contains("attn_q") ? d.heads() : d.kvHeads());
            }
            final RopePermutation p = perm;
            final boolean oneD = dims.length <= 1;
            int rowLength = dims.length == 0 ? 1 : Math.toIntExact(dims[dims.length - 1]);
            Rows rows = () -> {
                RowSource src = RowSource.of(ck.view(t.name()), p != null && oneD ? 1 : rowLength);
                return p == null ? src : src.reordered(p::sourceOf);
            };
            entries.add(new Entry(name, type, ne, rows));
        }
        if (visionTensors > 0) {
            notes.add(VISION_NOTE + " (" + visionTensors + " tensors) are not in this file; `ckpt convert SRC --to gguf`"
                    + " writes them to the mmproj GGUF");
        }
        entries.sort(Comparator.comparing(Entry::name, LlamaNames::compareWeightOrder));
        int fileType = quant != null ? quant.ftype() : switch (base) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 32;
            default -> 7;
        };
        Map<String, GgufValue> md = new LinkedHashMap<>(LlamaMetadata.keys(ck.root().getFileName().toString(), cfg, d, fileType));
        if (quant != null) {
            md.put("general.quantization_version", GgufValue.u32(2));
        }
        md.putAll(VocabMetadata.read(ck.root(), d.vocabSize()));
        List<Entry> planned = quant == null ? entries : quantized(entries, quant, d.layers(), d.heads(), d.kvHeads());
        return new Plan(md, planned, notes);
    }

    /**
     * Plans the quantization of an unquantized GGUF (F32/F16/BF16 tensors): metadata copied, file type
     * and quantization version set, tensors re-ordered and typed as llama.cpp's quantizer does.
     */
    public static Plan fromGguf(GgufFile f, QuantType quant) throws IOException {
        if (!"llama".equals(f.value("general.architecture").map(v -> v instanceof GgufValue.Str s ? s.value() : "").orElse(""))) {
            throw new FormatException(f.path(), Kind.UNSUPPORTED, "general.architecture is not llama; only llama GGUFs can be quantized");
        }
        List<Entry> entries = new ArrayList<>();
        for (GgufTensorInfo t : f.ggufTensors()) {
            if (t.type().isQuantized()) {
                throw new FormatException(f.path(), Kind.UNSUPPORTED, "tensor " + t.name() + " is already " + t.type()
                        + "; quantize from an f32, f16 or bf16 GGUF (or the original checkpoint)");
            }
            RowSource.checkGguf(t, f.path());
            entries.add(new Entry(t.name(), t.type(), t.ne(), () -> RowSource.ofGguf(t, f.bytes(t.name()))));
        }
        entries.sort(Comparator.comparing(Entry::name, LlamaNames::compareWeightOrder));
        Map<String, GgufValue> md = new LinkedHashMap<>(f.metadata());
        md.remove("general.alignment");
        md.put("general.quantization_version", GgufValue.u32(2));
        md.put("general.file_type", GgufValue.u32(quant.ftype()));
        int layers = positiveKey(f, md, "llama.block_count");
        int heads = positiveKey(f, md, "llama.attention.head_count");
        int kvHeads = md.containsKey("llama.attention.head_count_kv") ? positiveKey(f, md, "llama.attention.head_count_kv") : heads;
        return new Plan(md, quantized(entries, quant, layers, heads, kvHeads), List.of());
    }

    private static int positiveKey(GgufFile f, Map<String, GgufValue> md, String key) throws FormatException {
        GgufValue v = md.get(key);
        long n = 0;
        String shown = "missing";
        if (v != null) {
            try {
                n = v.asLong();
                shown = Long.toString(n);
            } catch (RuntimeException notANumber) {
                shown = "not an integer (" + v.getClass().getSimpleName() + ")";
            }
        }
        if (n <= 0 || n > Integer.MAX_VALUE) {
            throw new FormatException(f.path(), Kind.INVALID_VALUE, key + " is " + shown
                    + "; a llama GGUF needs a positive integer there");
        }
        return (int) n;
    }

    private static List<Entry> quantized(List<Entry> entries, QuantType quant, int layers, int heads, int kvHeads) {
        QuantMix mix = new QuantMix(quant, entries.stream().map(Entry::name).toList(), layers, heads, kvHeads);
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            out.add(new Entry(e.name(), mix.choose(e.name(), e.ne(), e.type()), e.ne(), e.rows()));
        }
        return out;
    }

    private static GgmlType baseType(OutType out, List<TensorInfo> tensors) {
        return switch (out) {
            case F32 -> GgmlType.F32;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q8_0 -> GgmlType.Q8_0;
            case AUTO -> tensors.stream().filter(t -> t.shape().rank() >= 2).map(TensorInfo::dtype).findFirst()
                    .map(dt -> dt == DType.BF16 ? GgmlType.BF16 : dt == DType.F32 ? GgmlType.F32 : GgmlType.F16)
                    .orElse(GgmlType.F16);
        };
    }

    /** Writes the plan to {@code out} (atomically; {@code force} replaces an existing file). */
    public static long write(Plan plan, Path out, boolean force, int threads) throws IOException {
        return write(plan, out, force, threads, dev.ckpt.formats.ProgressListener.NONE);
    }

    /** As {@link #write(Plan, Path, boolean, int)}, reporting progress per finished tensor. */
    public static long write(Plan plan, Path out, boolean force, int threads, dev.ckpt.formats.ProgressListener listener)
            throws IOException {
        List<GgufWriter.Tensor> tensors = new ArrayList<>();
        for (Entry e : plan.tensors()) {
            RowEncoder enc = new RowEncoder(e.type());
            GgufWriter.TensorSource lazy = new LazySource(e, enc);
            tensors.add(new GgufWriter.Tensor(e.name(), e.type(), e.ne(), lazy));
        }
        return GgufWriter.write(out, plan.metadata(), tensors,
                new GgufWriter.Options(GgufFile.DEFAULT_ALIGNMENT, force, threads), listener);
    }

    /** Opens the rows on first use; chunks split the rows as {@link RowEncoder} does. */
    private static final class LazySource implements GgufWriter.TensorSource {
        private final Entry entry;
        private final RowEncoder encoder;
        private final int chunks;
        private volatile GgufWriter.TensorSource delegate;

        LazySource(Entry entry, RowEncoder encoder) {
            this.entry = entry;
            this.encoder = encoder;
            long[] ne = entry.ne();
            long rows = 1;
            for (int i = 1; i < ne.length; i++) {
                rows *= ne[i];
            }
            this.chunks = RowEncoder.chunkCount(rows, ne.length == 0 ? 1 : ne[0]);
        }

        public int chunkCount() {
            return chunks;
        }

        public void fill(int chunk, java.lang.foreign.MemorySegment tensorBytes) throws IOException {
            GgufWriter.TensorSource d = delegate;
            if (d == null) {
                synchronized (this) {
                    if (delegate == null) {
                        delegate = encoder.source(entry.rows().open());
                    }
                    d = delegate;
                }
            }
            d.fill(chunk, tensorBytes);
        }
    }
}

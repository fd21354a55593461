package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A llama GGUF back to a Hugging Face safetensors directory: GGUF names to HF names, the Q/K
 * permutation undone, quantized tensors dequantized (to {@code dtype}, F32 by default; unquantized
 * tensors keep their type unless {@code dtype} is given), and a config.json rebuilt from the keys.
 * The tokenizer is not rebuilt (GGUF keeps no tokenizer.json); copy it from the source model.
 */
public final class GgufImport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private GgufImport() {
    }

    /**
     * The tensors of a llama GGUF under their Hugging Face names, each with a recipe that reads its rows
     * (dequantized, Q/K permutation undone) into {@code dtype}, and the config.json rebuilt from the keys.
     *
     * @param tensors in file order
     * @param config the rebuilt config.json
     */
    public record Imported(List<PlannedTensor> tensors, ObjectNode config) {
    }

    /** Writes {@code out}. @param dtype null: keep F32/F16/BF16, dequantize to F32 */
    public static WriteReport toSafetensors(GgufFile f, Path out, DType dtype, WriteOptions options) throws IOException {
        Imported imported = plan(f, dtype);
        List<SideFile> sides = new ArrayList<>();
        sides.add(SideFile.Bytes.utf8("config.json", JSON.writeValueAsString(imported.config()) + "\n"));
        return CheckpointWriter.write(out, imported.tensors(), sides, options, ProgressListener.NONE);
    }

    /**
     * Plans the import of {@code f} without reading tensor bytes (the recipes read them): what
     * {@link #toSafetensors} writes, and what {@code GgufSource} verifies without a copy.
     *
     * @param dtype null: keep F32/F16/BF16, dequantize to F32
     */
    public static Imported plan(GgufFile f, DType dtype) throws FormatException {
        String arch = f.value("general.architecture").map(v -> v instanceof GgufValue.Str s ? s.value() : "").orElse("");
        if (!arch.equals("llama")) {
            throw new FormatException(f.path(), Kind.UNSUPPORTED, "general.architecture is \"" + arch + "\"; only llama GGUFs convert to safetensors");
        }
        int heads;
        int kvHeads;
        try {
            heads = (int) f.metadata().get("llama.attention.head_count").asLong();
            GgufValue kv = f.metadata().get("llama.attention.head_count_kv");
            kvHeads = kv == null ? heads : (int) kv.asLong();
        } catch (RuntimeException e) {
            throw new FormatException(f.path(), Kind.INVALID_VALUE, "llama.attention.head_count is missing or not an integer");
        }
        List<PlannedTensor> plan = new ArrayList<>();
        int vocab = 0;
        boolean tied = f.ggufTensor("output.weight").isEmpty();
        for (GgufTensorInfo t : f.ggufTensors()) {
            String hf = LlamaNames.toHf(t.name()).orElseThrow(() -> new FormatException(f.path(), Kind.UNSUPPORTED,
                    "tensor " + t.name() + " has no Hugging Face Llama name"));
            RowSource.checkGguf(t, f.path());
            DType keep = t.type().dtype();
            DType outType = dtype != null ? dtype : keep != null && keep.isComputeFloat() ? keep : DType.F32;
            if (t.name().equals("token_embd.weight")) {
                vocab = (int) t.rowCount();
            }
            TensorInfo info = new TensorInfo(hf, outType, t.shape());
            RopePermutation perm = null;
            if (t.name().matches("blk\\.\\d+\\.attn_[qk]\\.weight")) {
                int h = t.name().contains("attn_q") ? heads : kvHeads;
                try {
                    perm = new RopePermutation(t.rowCount(), h);
                } catch (IllegalArgumentException e) { // the permutation's own rule: rows split into even heads
                    throw new FormatException(f.path(), Kind.MISMATCH, "tensor " + t.name() + " has " + t.rowCount()
                            + " rows, which do not split into " + h + " heads of even size (llama.attention.head_count"
                            + (h == heads ? "" : "_kv") + ")");
                }
            }
            plan.add(new PlannedTensor(info, decode(f, t, outType, perm)));
        }
        try {
            return new Imported(plan, LlamaMetadata.config(f.metadata(), vocab, tied));
        } catch (IllegalArgumentException e) {
            throw new FormatException(f.path(), Kind.INVALID_VALUE, e.getMessage());
        }
    }

    /**
     * A recipe that decodes GGUF tensor {@code t} (dequantized when quantized) row by row into
     * {@code outType}, with rows taken through {@code perm}'s inverse when it is not null.
     */
    static TensorRecipe decode(GgufFile f, GgufTensorInfo t, DType outType, RopePermutation perm) {
        return target -> {
            RowSource src = RowSource.ofGguf(t, f.bytes(t.name()));
            if (perm != null) {
                src = src.reordered(perm::inverseSourceOf);
            }
            float[] row = new float[src.rowLength()];
            long rowBytes = outType.byteSizeFor(src.rowLength());
            for (long r = 0; r < src.rows(); r++) {
                src.read(r, row);
                FloatCodec.encode(row, 0, row.length, outType, target, r * rowBytes);
            }
        };
    }
}

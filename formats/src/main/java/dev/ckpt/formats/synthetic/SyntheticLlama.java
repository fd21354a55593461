package dev.ckpt.formats.synthetic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.MappedMemory;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.ShardPlan;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorRecipe;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.WriteReport;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Builds random-weight Llama checkpoints ({@code LlamaForCausalLM}) in the real Hugging Face layout:
 * config.json, generation_config.json, a {@link SyntheticTokenizer}, and safetensors weights, sharded
 * with an index when asked. Deterministic: the same {@link Options} give the same bytes. Weights are
 * generated straight into the output files chunk by chunk, so any size can be built with a small heap.
 *
 * <p>Weights are uniform in ±1/sqrt(fan-in) (norms 1 ± 0.1), so a forward pass stays finite.
 */
public final class SyntheticLlama {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Element types of the weights. {@code MIXED}: norms F32, everything else BF16. */
    public enum Dtypes {
        F32, F16, BF16, MIXED;

        DType of(boolean norm) {
            return switch (this) {
                case F32 -> DType.F32;
                case F16 -> DType.F16;
                case BF16 -> DType.BF16;
                case MIXED -> norm ? DType.F32 : DType.BF16;
            };
        }

        /** The config.json {@code torch_dtype}. */
        public String torchDtype() {
            return switch (this) {
                case F32 -> "float32";
                case F16 -> "float16";
                case BF16, MIXED -> "bfloat16";
            };
        }
    }

    /**
     * Shape and layout of the model.
     *
     * @param shardCount exact number of shards wanted (0: use {@code maxShardBytes})
     * @param maxShardBytes shard limit when {@code shardCount} is 0
     */
    public record Options(long seed, int vocabSize, int hiddenSize, int intermediateSize, int layers, int heads,
                          int kvHeads, Dtypes dtypes, int shardCount, long maxShardBytes) {
        public Options {
            if (vocabSize <= 0 || hiddenSize <= 0 || intermediateSize <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0) {
                throw new IllegalArgumentException("model dimensions must be positive");
            }
            if (hiddenSize % heads != 0 || heads % kvHeads != 0) {
                throw new IllegalArgumentException("hiddenSize must divide by heads, heads by kvHeads");
            }
            if (shardCount < 0 || maxShardBytes <= 0) {
                throw new IllegalArgumentException("shardCount >= 0 and maxShardBytes > 0 required");
            }
        }

        /** A tiny model (vocabulary = the synthetic tokenizer, hidden 64, 2 layers): mixed bf16/f32, 2 shards. */
        public static Options tiny() {
            return new Options(42, SyntheticTokenizer.vocabSize(), 64, 172, 2, 4, 4, Dtypes.MIXED, 2,
                    WriteOptions.DEFAULT_MAX_SHARD_BYTES);
        }

        /**
         * A bf16 model of about {@code targetBytes} (hidden 2048, intermediate 5632, vocabulary 32000, as
         * many layers as fit) in shards of at most {@code maxShardBytes}: the benchmark workload.
         */
        public static Options ofSize(long targetBytes, long maxShardBytes) {
            long perLayer = 2L * (4L * 2048 * 2048 + 3L * 2048 * 5632 + 2L * 2048);
            long fixed = 2L * (2L * 32000 * 2048 + 2048);
            int layers = (int) Math.max(1, (targetBytes - fixed + perLayer / 2) / perLayer);
            return new Options(7, 32000, 2048, 5632, layers, 16, 16, Dtypes.BF16, 0, maxShardBytes);
        }

        public Options withDtypes(Dtypes d) {
            return new Options(seed, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, d, shardCount, maxShardBytes);
        }

        public Options withShardCount(int n) {
            return new Options(seed, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, dtypes, n, maxShardBytes);
        }

        public Options withSeed(long s) {
            return new Options(s, vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, dtypes, shardCount, maxShardBytes);
        }

        public Options withLayers(int n) {
            return new Options(seed, vocabSize, hiddenSize, intermediateSize, n, heads, kvHeads, dtypes, shardCount, maxShardBytes);
        }

        public Options withKvHeads(int n) {
            return new Options(seed, vocabSize, hiddenSize, intermediateSize, layers, heads, n, dtypes, shardCount, maxShardBytes);
        }
    }

    private SyntheticLlama() {
    }

    /** Writes the checkpoint into {@code outDir} (which must not exist), with one thread per processor. */
    public static WriteReport write(Path outDir, Options o) throws IOException {
        return write(outDir, o, 0, ProgressListener.NONE);
    }

    /** Writes the checkpoint into {@code outDir} (which must not exist) using {@code threads} workers (0: all). */
    public static WriteReport write(Path outDir, Options o, int threads, ProgressListener listener) throws IOException {
        List<PlannedTensor> plan = tensors(o);
        long max = o.shardCount() > 0 ? maxShardBytesFor(plan.stream().map(PlannedTensor::info).toList(), o.shardCount())
                : o.maxShardBytes();
        return CheckpointWriter.write(outDir, plan, sideFiles(o), new WriteOptions(max, false, threads), listener);
    }

    /** The smallest shard limit that splits {@code tensors} into exactly {@code count} shards (or as close as possible). */
    static long maxShardBytesFor(List<TensorInfo> tensors, int count) {
        long lo = 1;
        long hi = Math.max(1, tensors.stream().mapToLong(TensorInfo::byteSize).sum());
        while (lo < hi) {
            long mid = lo + (hi - lo) / 2;
            if (ShardPlan.greedy(tensors, mid).size() > count) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The tensors in Hugging Face state-dict order, each with a deterministic random recipe. */
    public static List<PlannedTensor> tensors(Options o) {
        int h = o.hiddenSize();
        int kv = h / o.heads() * o.kvHeads();
        List<PlannedTensor> out = new ArrayList<>();
        add(out, o, "model.embed_tokens.weight", false, o.vocabSize(), h);
        for (int i = 0; i < o.layers(); i++) {
            String p = "model.layers." + i + ".";
            add(out, o, p + "self_attn.q_proj.weight", false, h, h);
            add(out, o, p + "self_attn.k_proj.weight", false, kv, h);
            add(out, o, p + "self_attn.v_proj.weight", false, kv, h);
            add(out, o, p + "self_attn.o_proj.weight", false, h, h);
            add(out, o, p + "mlp.gate_proj.weight", false, o.intermediateSize(), h);
            add(out, o, p + "mlp.up_proj.weight", false, o.intermediateSize(), h);
            add(out, o, p + "mlp.down_proj.weight", false, h, o.intermediateSize());
            add(out, o, p + "input_layernorm.weight", true, h);
            add(out, o, p + "post_attention_layernorm.weight", true, h);
        }
        add(out, o, "model.norm.weight", true, h);
        add(out, o, "lm_head.weight", false, o.vocabSize(), h);
        return out;
    }

    private static void add(List<PlannedTensor> out, Options o, String name, boolean norm, long... dims) {
        TensorInfo info = new TensorInfo(name, o.dtypes().of(norm), Shape.of(dims));
        long seed = o.seed() ^ fnv1a(name);
        float center = norm ? 1f : 0f;
        float scale = norm ? 0.1f : (float) (1 / Math.sqrt(dims[dims.length - 1]));
        out.add(new PlannedTensor(info, uniform(info.dtype(), info.elementCount(), seed, center, scale)));
    }

    /** A recipe writing {@code count} values uniform in center ± scale, chunk by chunk, releasing written pages. */
    public static TensorRecipe uniform(DType dtype, long count, long seed, float center, float scale) {
        return target -> {
            SplittableRandom r = new SplittableRandom(seed);
            float[] buf = new float[(int) Math.min(count, FloatCodec.CHUNK_ELEMENTS)];
            int bytes = dtype.bitSize() / 8;
            for (long done = 0; done < count; done += buf.length) {
                int n = (int) Math.min(buf.length, count - done);
                for (int i = 0; i < n; i++) {
                    buf[i] = center + scale * (float) (2 * r.nextDouble() - 1);
                }
                FloatCodec.encode(buf, 0, n, dtype, target, done * bytes);
                MappedMemory.release(target.asSlice(done * bytes, (long) n * bytes));
            }
        };
    }

    /** config.json, generation_config.json and the tokenizer files. */
    public static List<SideFile> sideFiles(Options o) {
        List<SideFile> files = new ArrayList<>();
        files.add(SideFile.Bytes.utf8("config.json", SyntheticTokenizer.pretty(config(o))));
        ObjectNode gen = JSON.createObjectNode().put("_from_model_config", true).put("bos_token_id", 1)
                .put("eos_token_id", 2).put("transformers_version", "4.44.0");
        files.add(SideFile.Bytes.utf8("generation_config.json", SyntheticTokenizer.pretty(gen)));
        files.addAll(SyntheticTokenizer.files(2048));
        return files;
    }

    /** The config.json tree. */
    public static ObjectNode config(Options o) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("attention_bias", false).put("attention_dropout", 0.0).put("bos_token_id", 1).put("eos_token_id", 2);
        c.put("hidden_act", "silu").put("hidden_size", o.hiddenSize()).put("initializer_range", 0.02);
        c.put("intermediate_size", o.intermediateSize()).put("max_position_embeddings", 2048).put("mlp_bias", false);
        c.put("model_type", "llama").put("num_attention_heads", o.heads()).put("num_hidden_layers", o.layers());
        c.put("num_key_value_heads", o.kvHeads()).put("pretraining_tp", 1).put("rms_norm_eps", 1e-5);
        c.putNull("rope_scaling");
        c.put("rope_theta", 10000.0).put("tie_word_embeddings", false).put("torch_dtype", o.dtypes().torchDtype());
        c.put("transformers_version", "4.44.0").put("use_cache", true).put("vocab_size", o.vocabSize());
        return c;
    }

    /** FNV-1a of the UTF-8 name: each tensor's seed, so a tensor's values do not depend on the others. */
    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }
}

package dev.ckpt.tools.quant;

import dev.ckpt.formats.gguf.GgmlType;
import java.util.List;

/**
 * llama.cpp's per-tensor type choice ({@code src/llama-quant.cpp}: {@code tensor_allows_quantization},
 * {@code llama_tensor_get_type_impl}, {@code tensor_type_fallback}) for the llama architecture without
 * experts and without an importance matrix. Stateful like the original: call {@link #choose} once per
 * tensor in llama.cpp's weight order ({@code LlamaNames.compareWeightOrder}); the attn_v and
 * ffn_down counters advance as it goes.
 */
public final class QuantMix {
    private final QuantType qt;
    private final int nAttentionWv;
    private final int nFfnDown;
    private final boolean tiedEmbeddings;
    private final boolean is70b;
    private int iAttentionWv;
    private int iFfnDown;

    /**
     * @param names all GGUF tensor names of the model (to count attn_v tensors and see whether output.weight exists)
     * @param blockCount {@code llama.block_count}
     * @param heads attention heads, {@code kvHeads} key/value heads (llama.cpp's LLM_TYPE_70B bump needs 80 layers and GQA)
     */
    public QuantMix(QuantType qt, List<String> names, int blockCount, int heads, int kvHeads) {
        this.qt = qt;
        this.nAttentionWv = (int) names.stream().filter(n -> isAttnV(category(n))).count();
        this.tiedEmbeddings = !names.contains("output.weight");
        this.nFfnDown = blockCount;
        this.is70b = blockCount == 80 && heads != kvHeads;
    }

    enum Category { OUTPUT, TOKEN_EMBD, ATTENTION_QKV, ATTENTION_KV_B, ATTENTION_V, ATTENTION_K, ATTENTION_Q,
        ATTENTION_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OTHER }

    static Category category(String n) {
        if (n.equals("output.weight")) {
            return Category.OUTPUT;
        }
        if (n.equals("token_embd.weight") || n.equals("per_layer_token_embd.weight")) {
            return Category.TOKEN_EMBD;
        }
        if (n.contains("attn_qkv.weight")) {
            return Category.ATTENTION_QKV;
        }
        if (n.contains("attn_kv_b.weight")) {
            return Category.ATTENTION_KV_B;
        }
        if (n.contains("attn_v.weight")) {
            return Category.ATTENTION_V;
        }
        if (n.contains("attn_k.weight")) {
            return Category.ATTENTION_K;
        }
        if (n.contains("attn_q.weight")) {
            return Category.ATTENTION_Q;
        }
        if (n.contains("attn_output.weight")) {
            return Category.ATTENTION_OUTPUT;
        }
        if (n.contains("ffn_up")) {
            return Category.FFN_UP;
        }
        if (n.contains("ffn_gate")) {
            return Category.FFN_GATE;
        }
        if (n.contains("ffn_down")) {
            return Category.FFN_DOWN;
        }
        return Category.OTHER;
    }

    private static boolean isAttnV(Category c) {
        return c == Category.ATTENTION_V || c == Category.ATTENTION_QKV || c == Category.ATTENTION_KV_B;
    }

    /** {@code ggml_n_dims}: dims up to the last one greater than 1 (at least 1). */
    static int nDims(long[] ne) {
        for (int i = ne.length - 1; i >= 1; i--) {
            if (ne[i] > 1) {
                return i + 1;
            }
        }
        return 1;
    }

    /** {@code tensor_allows_quantization} for the names a llama/LLaVA model has. */
    static boolean allowsQuantization(String name, long[] ne) {
        if (nDims(ne) < 2) {
            return false;
        }
        boolean q = name.endsWith("weight");
        q &= !name.contains("_norm.weight");
        q &= !name.contains("ffn_gate_inp.weight");
        q &= !name.contains("altup") && !name.contains("laurel");
        q &= !name.equals("position_embd.weight") && !name.equals("token_types.weight");
        q &= !name.contains("ssm_conv1d") && !name.contains("attn_rel_b.weight");
        q &= !name.contains(".position_embd") && !name.contains(".patch_embd") && !name.contains(".rel_pos");
        return q;
    }

    private static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /**
     * The type of tensor {@code name} with ggml dims {@code ne}, currently stored as {@code current}
     * (what an unquantizable tensor keeps).
     */
    public GgmlType choose(String name, long[] ne, GgmlType current) {
        if (!allowsQuantization(name, ne)) {
            return current;
        }
        GgmlType t = qt.base();
        if (!qt.pure()) {
            t = mix(t, name, ne);
        }
        return fallback(ne[0], t);
    }

    private GgmlType mix(GgmlType t, String name, long[] ne) {
        Category c = category(name);
        if (c == Category.OUTPUT || (tiedEmbeddings && c == Category.TOKEN_EMBD)) {
            if (ne[0] % t.blockSize() != 0) {
                return GgmlType.Q8_0;
            }
            return t != GgmlType.Q8_0 ? GgmlType.Q6_K : t;
        }
        if (c == Category.TOKEN_EMBD) {
            return t;
        }
        if (isAttnV(c)) {
            if ((qt == QuantType.Q4_K_M || qt == QuantType.Q5_K_M) && useMoreBits(iAttentionWv, nAttentionWv)) {
                t = GgmlType.Q6_K;
            } else if (qt == QuantType.Q4_K_S && iAttentionWv < 4) {
                t = GgmlType.Q5_K;
            }
            if (is70b && (t == GgmlType.Q3_K || t == GgmlType.Q4_K)) {
                t = GgmlType.Q5_K;
            }
            ++iAttentionWv;
            return t;
        }
        if (c == Category.FFN_DOWN) {
            int i = iFfnDown;
            int n = nFfnDown;
            if (qt == QuantType.Q4_K_M) {
                if (useMoreBits(i, n)) {
                    t = GgmlType.Q6_K;
                }
            } else if (qt == QuantType.Q5_K_M && useMoreBits(i, n)) {
                t = GgmlType.Q6_K;
            } else if (qt == QuantType.Q4_K_S && i < n / 8) {
                t = GgmlType.Q5_K;
            }
            ++iFfnDown;
        }
        return t;
    }

    /** {@code tensor_type_fallback}: a type whose block fits a row of {@code ncols}, else F16. */
    static GgmlType fallback(long ncols, GgmlType t) {
        if (ncols % t.blockSize() == 0) {
            return t;
        }
        GgmlType r = switch (t) {
            case Q2_K, Q3_K -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> t;
        };
        return ncols % r.blockSize() == 0 ? r : GgmlType.F16;
    }
}

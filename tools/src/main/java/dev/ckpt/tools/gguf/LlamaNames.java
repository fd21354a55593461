package dev.ckpt.tools.gguf;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face Llama tensor names to GGUF names and back ({@code tensor_mapping.py}); the
 * {@code .weight}/{@code .bias} suffix is kept. {@code rotary_emb.inv_freq} has no GGUF name (dropped).
 */
public final class LlamaNames {
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final String[][] LAYER = {
        {"input_layernorm", "attn_norm"}, {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"}, {"self_attn.o_proj", "attn_output"}, {"post_attention_layernorm", "ffn_norm"},
        {"mlp.gate_proj", "ffn_gate"}, {"mlp.up_proj", "ffn_up"}, {"mlp.down_proj", "ffn_down"},
    };
    private static final String[][] GLOBAL = {
        {"model.embed_tokens", "token_embd"}, {"model.norm", "output_norm"}, {"lm_head", "output"},
    };

    private LlamaNames() {
    }

    /** The GGUF name of an HF tensor, or empty when llama.cpp has none (e.g. rotary inv_freq). */
    public static Optional<String> toGguf(String hf) {
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches()) {
            for (String[] p : LAYER) {
                if (p[0].equals(m.group(2))) {
                    return Optional.of("blk." + m.group(1) + "." + p[1] + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        for (String[] p : GLOBAL) {
            if (hf.equals(p[0] + ".weight") || hf.equals(p[0] + ".bias")) {
                return Optional.of(p[1] + hf.substring(p[0].length()));
            }
        }
        return Optional.empty();
    }

    /** The HF name of a GGUF tensor, or empty when unknown. */
    public static Optional<String> toHf(String gguf) {
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches()) {
            for (String[] p : LAYER) {
                if (p[1].equals(m.group(2))) {
                    return Optional.of("model.layers." + m.group(1) + "." + p[0] + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        for (String[] p : GLOBAL) {
            if (gguf.equals(p[1] + ".weight") || gguf.equals(p[1] + ".bias")) {
                return Optional.of(p[0] + gguf.substring(p[1].length()));
            }
        }
        return Optional.empty();
    }

    /** True for names the HF converter deliberately drops. */
    public static boolean isDropped(String hf) {
        return hf.endsWith("rotary_emb.inv_freq");
    }

    /**
     * The order llama.cpp's loader and quantizer iterate tensors in ({@code weight_name_comparer}):
     * by layer number (tensors outside {@code blk.N.} first), then by name.
     */
    public static int compareWeightOrder(String a, String b) {
        int la = layerOf(a);
        int lb = layerOf(b);
        return la != lb ? Integer.compare(la, lb) : a.compareTo(b);
    }

    /** The N of {@code blk.N.}, or -1. */
    public static int layerOf(String gguf) {
        if (!gguf.startsWith("blk.")) {
            return -1;
        }
        int end = gguf.indexOf('.', 4);
        try {
            return Integer.parseInt(gguf.substring(4, end < 0 ? gguf.length() : end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}

package dev.ckpt.tools.gguf;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face CLIP vision tower and LLaVA projector names to the names llama.cpp's {@code clip.cpp}
 * loads from an mmproj GGUF ({@code clip-impl.h} {@code TN_*}). Tower names are given without their
 * prefix (starting at {@code embeddings.}, {@code pre_layrnorm.} or {@code encoder.layers.}).
 *
 * <p>{@code mlp.fc1} (the up projection, {@code [ff, hidden]}) is {@code ffn_up} and {@code mlp.fc2}
 * is {@code ffn_down}, as {@code convert_hf_to_gguf.py} names them; the legacy
 * {@code convert_image_encoder_to_gguf.py} swapped the two and {@code clip.cpp} undoes that by shape,
 * so both load.
 */
public final class ClipNames {
    private static final Pattern LAYER = Pattern.compile("encoder\\.layers\\.(\\d+)\\.(.+)\\.(weight|bias)");
    private static final Pattern PROJECTOR = Pattern.compile("model\\.mm_projector\\.(\\d+)\\.(weight|bias)");
    private static final Pattern GGUF_LAYER = Pattern.compile("v\\.blk\\.(\\d+)\\.(\\w+)\\.(weight|bias)");
    private static final Pattern GGUF_PROJECTOR = Pattern.compile("mm\\.(\\d+)\\.(weight|bias)");
    private static final String[][] LAYER_PARTS = {
        {"layer_norm1", "ln1"}, {"layer_norm2", "ln2"}, {"self_attn.q_proj", "attn_q"}, {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"}, {"self_attn.out_proj", "attn_out"}, {"mlp.fc1", "ffn_up"}, {"mlp.fc2", "ffn_down"},
    };

    private ClipNames() {
    }

    /** The mmproj name of a tower tensor (prefix removed), or empty when llama.cpp has none. */
    public static Optional<String> tower(String name) {
        Matcher m = LAYER.matcher(name);
        if (m.matches()) {
            for (String[] p : LAYER_PARTS) {
                if (p[0].equals(m.group(2))) {
                    return Optional.of("v.blk." + m.group(1) + "." + p[1] + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        return Optional.ofNullable(switch (name) {
            case "embeddings.class_embedding" -> "v.class_embd";
            case "embeddings.patch_embedding.weight" -> "v.patch_embd.weight";
            case "embeddings.position_embedding.weight" -> "v.position_embd.weight";
            case "pre_layrnorm.weight" -> "v.pre_ln.weight";
            case "pre_layrnorm.bias" -> "v.pre_ln.bias";
            default -> null;
        });
    }

    /**
     * The inverse of {@link #tower} and {@link #projector}: the Hugging Face name of an mmproj tensor, a
     * tower tensor without its prefix ({@code encoder.layers.0.mlp.fc1.weight}), a projector tensor with
     * its LLaVA name ({@code model.mm_projector.0.weight}); {@code v.post_ln} maps back to
     * {@code post_layernorm}, which files cut at the last layer keep. Empty for names LLaVA-1.5 has no
     * counterpart of.
     */
    public static Optional<String> toHf(String gguf) {
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches()) {
            for (String[] p : LAYER_PARTS) {
                if (p[1].equals(m.group(2))) {
                    return Optional.of("encoder.layers." + m.group(1) + "." + p[0] + "." + m.group(3));
                }
            }
            return Optional.empty();
        }
        m = GGUF_PROJECTOR.matcher(gguf);
        if (m.matches()) {
            return Optional.of("model.mm_projector." + m.group(1) + "." + m.group(2));
        }
        return Optional.ofNullable(switch (gguf) {
            case "v.class_embd" -> "embeddings.class_embedding";
            case "v.patch_embd.weight" -> "embeddings.patch_embedding.weight";
            case "v.position_embd.weight" -> "embeddings.position_embedding.weight";
            case "v.pre_ln.weight" -> "pre_layrnorm.weight";
            case "v.pre_ln.bias" -> "pre_layrnorm.bias";
            case "v.post_ln.weight" -> "post_layernorm.weight";
            case "v.post_ln.bias" -> "post_layernorm.bias";
            default -> null;
        });
    }

    /** The layer of a tower tensor ({@code encoder.layers.N.}), or -1. */
    public static int towerLayer(String name) {
        Matcher m = LAYER.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /**
     * True for tower tensors LLaVA never uses and llama.cpp's converter drops: {@code post_layernorm}
     * (only feeds the pooled output), {@code position_ids}.
     */
    public static boolean towerDropped(String name) {
        return name.startsWith("post_layernorm.") || name.equals("embeddings.position_ids");
    }

    /** {@code model.mm_projector.N.weight|bias} to {@code mm.N.weight|bias}, or empty. */
    public static Optional<String> projector(String hf) {
        Matcher m = PROJECTOR.matcher(hf);
        return m.matches() ? Optional.of("mm." + m.group(1) + "." + m.group(2)) : Optional.empty();
    }

    /** True for the LLaVA tensors that go to the mmproj GGUF instead of the language model. */
    public static boolean isVisionPart(String hf) {
        return hf.startsWith("model.mm_projector.") || hf.startsWith("model.vision_tower.")
                || hf.equals("model.image_newline");
    }
}

package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The CLIP ViT vision tower as LLaVA uses it ({@code CLIPVisionModel}, transformers 4.37):
 * patch embedding (a stride = kernel convolution without bias, done as a matrix product over
 * flattened patches), class token, position embeddings, {@code pre_layrnorm}, then pre-norm
 * encoder blocks up to the selected hidden state ({@code mm_vision_select_layer}, -2 in
 * LLaVA-1.5). Tensors of blocks past the selected one and {@code post_layernorm} are marked
 * ignored: LLaVA never runs them.
 */
public final class ClipVisionTower {
    private record Block(NDArray ln1w, NDArray ln1b, NDArray qw, NDArray qb, NDArray kw, NDArray kb, NDArray vw,
                         NDArray vb, NDArray ow, NDArray ob, NDArray ln2w, NDArray ln2b, NDArray fc1w, NDArray fc1b,
                         NDArray fc2w, NDArray fc2b) {
    }

    private final ClipConfig cfg;
    private final NDManager manager;
    private final DataType computeType;
    private final NDArray patchWeight;
    private final NDArray classEmbedding;
    private final NDArray positions;
    private final NDArray preNormW;
    private final NDArray preNormB;
    private final List<Block> blocks = new ArrayList<>();
    private final boolean dropClassToken;

    /**
     * @param prefix tensor-name prefix of {@code vision_model.}, e.g.
     *     {@code model.vision_tower.vision_tower.vision_model.}
     * @param selectLayer index into hidden_states (negative counts from the end)
     * @param selectFeature {@code patch} (drop the class token) or {@code cls_patch}
     */
    public ClipVisionTower(ClipConfig cfg, WeightStore store, String prefix, int selectLayer, String selectFeature)
            throws IOException {
        this.cfg = cfg;
        this.manager = store.manager();
        this.computeType = store.computeType();
        this.dropClassToken = !selectFeature.equals("cls_patch");
        long h = cfg.hiddenSize();
        int p = cfg.patchSize();
        int states = cfg.layerCount() + 1;
        int selected = selectLayer < 0 ? states + selectLayer : selectLayer;
        if (selected < 0 || selected >= states) {
            // bad input (exit 3), not a usage error: the value comes from the model's config.json
            throw new dev.ckpt.formats.FormatException(null, dev.ckpt.formats.FormatException.Kind.INVALID_VALUE,
                    "config.json: mm_vision_select_layer " + selectLayer + " is outside the " + cfg.layerCount()
                            + "-layer vision tower (hidden states 0.." + (states - 1) + ")");
        }
        String e = prefix + "embeddings.";
        patchWeight = store.load(e + "patch_embedding.weight", h, 3, p, p).reshape(h, 3L * p * p);
        classEmbedding = store.load(e + "class_embedding", h).reshape(1, h);
        positions = store.load(e + "position_embedding.weight", cfg.patchCount() + 1L, h);
        preNormW = store.load(prefix + "pre_layrnorm.weight", h);
        preNormB = store.load(prefix + "pre_layrnorm.bias", h);
        long inter = cfg.intermediateSize();
        for (int j = 0; j < cfg.layerCount(); j++) {
            String b = prefix + "encoder.layers." + j + ".";
            String[] names = {"layer_norm1.weight", "layer_norm1.bias", "self_attn.q_proj.weight", "self_attn.q_proj.bias",
                "self_attn.k_proj.weight", "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
                "self_attn.out_proj.weight", "self_attn.out_proj.bias", "layer_norm2.weight", "layer_norm2.bias",
                "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"};
            if (j >= selected) {
                for (String n : names) {
                    store.markIgnored(b + n);
                }
                continue;
            }
            blocks.add(new Block(store.load(b + names[0], h), store.load(b + names[1], h), store.load(b + names[2], h, h),
                    store.load(b + names[3], h), store.load(b + names[4], h, h), store.load(b + names[5], h),
                    store.load(b + names[6], h, h), store.load(b + names[7], h), store.load(b + names[8], h, h),
                    store.load(b + names[9], h), store.load(b + names[10], h), store.load(b + names[11], h),
                    store.load(b + names[12], inter, h), store.load(b + names[13], inter),
                    store.load(b + names[14], h, inter), store.load(b + names[15], h)));
        }
        for (String n : List.of("post_layernorm.weight", "post_layernorm.bias")) {
            if (store.has(prefix + n)) {
                store.markIgnored(prefix + n);
            }
        }
        String ids = prefix + "embeddings.position_ids";
        if (store.has(ids)) {
            store.markIgnored(ids); // a buffer older transformers saved; always 0..N
        }
    }

    public ClipConfig config() {
        return cfg;
    }

    /**
     * Selected hidden state for one image.
     *
     * @param pixels normalised CHW pixels {@code [3, S, S]} (F32, any manager)
     * @return {@code [patches, hidden]} (or {@code [1 + patches, hidden]} for cls_patch), owned by the caller
     */
    public NDArray features(NDArray pixels) {
        int g = cfg.gridSize();
        int p = cfg.patchSize();
        long h = cfg.hiddenSize();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray patches = pixels.toType(computeType, false).reshape(3, g, p, g, p).transpose(1, 3, 0, 2, 4)
                    .reshape((long) g * g, 3L * p * p);
            NDArray x = NDArrays.concat(new NDList(classEmbedding, Linear.linear(patches, patchWeight).singletonOrThrow()), 0)
                    .add(positions);
            x = layerNorm(x, preNormW, preNormB);
            for (Block b : blocks) {
                x = block(x, b, h);
            }
            NDArray out = dropClassToken ? x.get("1:, :") : x;
            out = out.duplicate();
            NDScope.unregister(out);
            return out;
        }
    }

    private NDArray block(NDArray x, Block b, long h) {
        long n = x.getShape().get(0);
        int heads = cfg.headCount();
        long d = h / heads;
        NDArray y = layerNorm(x, b.ln1w(), b.ln1b());
        NDArray q = Linear.linear(y, b.qw(), b.qb()).singletonOrThrow().mul(1.0 / Math.sqrt(d));
        NDArray k = Linear.linear(y, b.kw(), b.kb()).singletonOrThrow();
        NDArray v = Linear.linear(y, b.vw(), b.vb()).singletonOrThrow();
        q = q.reshape(n, heads, d).transpose(1, 0, 2);
        k = k.reshape(n, heads, d).transpose(1, 0, 2);
        v = v.reshape(n, heads, d).transpose(1, 0, 2);
        NDArray probs = q.toType(DataType.FLOAT32, false).matMul(k.toType(DataType.FLOAT32, false).transpose(0, 2, 1))
                .softmax(-1).toType(computeType, false);
        NDArray attn = probs.matMul(v).transpose(1, 0, 2).reshape(n, h);
        NDArray x1 = x.add(Linear.linear(attn, b.ow(), b.ob()).singletonOrThrow());
        NDArray m = Linear.linear(layerNorm(x1, b.ln2w(), b.ln2b()), b.fc1w(), b.fc1b()).singletonOrThrow();
        m = cfg.hiddenAct().equals("quick_gelu") ? m.mul(Activation.sigmoid(m.mul(1.702))) : Activation.gelu(m);
        return x1.add(Linear.linear(m, b.fc2w(), b.fc2b()).singletonOrThrow());
    }

    /** LayerNorm over the last axis, statistics in F32. */
    private NDArray layerNorm(NDArray x, NDArray w, NDArray b) {
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray mean = x32.mean(new int[] {-1}, true);
        NDArray centered = x32.sub(mean);
        NDArray var = centered.square().mean(new int[] {-1}, true);
        return centered.div(var.add(cfg.layerNormEps()).sqrt()).toType(computeType, false).mul(w).add(b);
    }

    /** Pixels {@code [3, S, S]} as an engine array on this tower's device. */
    NDArray pixels(float[] chw) {
        return manager.create(chw, new Shape(3, cfg.imageSize(), cfg.imageSize()));
    }
}

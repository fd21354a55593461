package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The LlamaForCausalLM forward pass (transformers 4.37 semantics, batch 1) on DJL arrays:
 * embedding, decoder layers (RMSNorm, rotate-half RoPE with optional linear/dynamic scaling,
 * grouped-query attention with a causal mask and a KV cache, SwiGLU MLP), final norm and
 * lm_head (tied to the embedding when configured). Weights are loaded once from a
 * {@link WeightStore}; the caller owns the store and closes it after this decoder.
 */
public final class LlamaDecoder {
    private record Layer(NDArray inputNorm, Proj q, Proj k, Proj v, Proj o, NDArray postNorm, Proj gate, Proj up,
                         Proj down) {
    }

    /** A bias-free linear layer, optionally with LoRA pairs applied at run time. */
    private record Proj(NDArray weight, List<LoraAdapter.Pair> loras) {
        NDArray apply(NDArray x) {
            NDArray y = Linear.linear(x, weight).singletonOrThrow();
            for (LoraAdapter.Pair lora : loras) {
                NDArray ax = Linear.linear(x, lora.a()).singletonOrThrow();
                y = y.add(Linear.linear(ax, lora.b()).singletonOrThrow().mul(lora.scale()));
            }
            return y;
        }
    }

    /** Keys and values (after RoPE) of every layer for the positions seen so far. */
    public static final class KvCache implements AutoCloseable {
        private final NDArray[] keys;
        private final NDArray[] values;
        private int length;

        KvCache(int layers) {
            keys = new NDArray[layers];
            values = new NDArray[layers];
        }

        /** Positions cached so far. */
        public int length() {
            return length;
        }

        @Override
        public void close() {
            for (int i = 0; i < keys.length; i++) {
                if (keys[i] != null) {
                    keys[i].close();
                    values[i].close();
                }
            }
        }
    }

    private final LlamaConfig cfg;
    private final NDManager manager;
    private final DataType computeType;
    private final NDArray embed;
    private final NDArray norm;
    private final Proj lmHead;
    private final WeightStore store;
    private final LoraAdapter.Group adapter;
    private final List<Layer> layers = new ArrayList<>();

    /**
     * Loads every decoder tensor (names under {@code model.} plus {@code lm_head.weight}) from
     * {@code store}, checking each shape against {@code cfg}.
     */
    public LlamaDecoder(LlamaConfig cfg, WeightStore store) throws IOException {
        this(cfg, store, null);
    }

    /** As {@link #LlamaDecoder(LlamaConfig, WeightStore)}, with a LoRA adapter applied at run time (nullable). */
    LlamaDecoder(LlamaConfig cfg, WeightStore store, LoraAdapter.Group adapter) throws IOException {
        this.cfg = cfg;
        this.store = store;
        this.adapter = adapter;
        this.manager = store.manager();
        this.computeType = store.computeType();
        long h = cfg.hiddenSize();
        long qDim = (long) cfg.headCount() * cfg.headDim();
        long kvDim = (long) cfg.kvHeadCount() * cfg.headDim();
        long inter = cfg.intermediateSize();
        embed = store.load("model.embed_tokens.weight", cfg.vocabSize(), h);
        for (int i = 0; i < cfg.layerCount(); i++) {
            String p = "model.layers." + i + ".";
            layers.add(new Layer(store.load(p + "input_layernorm.weight", h),
                    proj(p + "self_attn.q_proj", qDim, h), proj(p + "self_attn.k_proj", kvDim, h),
                    proj(p + "self_attn.v_proj", kvDim, h), proj(p + "self_attn.o_proj", h, qDim),
                    store.load(p + "post_attention_layernorm.weight", h), proj(p + "mlp.gate_proj", inter, h),
                    proj(p + "mlp.up_proj", inter, h), proj(p + "mlp.down_proj", h, inter)));
            if (store.has(p + "self_attn.rotary_emb.inv_freq")) {
                store.markIgnored(p + "self_attn.rotary_emb.inv_freq"); // old conversions; recomputed from rope_theta
            }
        }
        norm = store.load("model.norm.weight", h);
        if (store.has("lm_head.weight") || !cfg.tieWordEmbeddings()) {
            lmHead = proj("lm_head", cfg.vocabSize(), h);
        } else {
            lmHead = new Proj(embed, List.of());
        }
    }

    private Proj proj(String module, long out, long in) throws IOException {
        NDArray w = store.load(module + ".weight", out, in);
        return new Proj(w, adapter == null ? List.of() : adapter.pairs(module, in, out));
    }

    public LlamaConfig config() {
        return cfg;
    }

    public DataType computeType() {
        return computeType;
    }

    /** A fresh, empty cache for {@link #forward}. */
    public KvCache newCache() {
        return new KvCache(cfg.layerCount());
    }

    /** Token embeddings {@code [ids.length, hidden]} in the compute dtype (owned by the caller). */
    public NDArray embed(long[] ids) {
        try (NDArray idx = manager.create(ids)) {
            return Embedding.embedding(idx, embed, SparseFormat.DENSE).singletonOrThrow();
        }
    }

    /**
     * Runs the decoder on {@code inputs} ({@code [T, hidden]}) at positions {@code cache.length()
     * ...} and appends to the cache.
     *
     * @param allPositions whether to return logits for every input position or only the last
     * @return F32 logits {@code [T, vocab]} or {@code [1, vocab]}, owned by the caller
     */
    public NDArray forward(NDArray inputs, KvCache cache, boolean allPositions) {
        int start = cache.length;
        int t = Math.toIntExact(inputs.getShape().get(0));
        NDArray x = inputs;
        NDArray[] rope = ropeTables(start, t);
        try (NDArray mask = causalMask(start, t)) {
            for (int i = 0; i < layers.size(); i++) {
                NDArray next;
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    next = layer(i, x, rope, mask, cache);
                    NDScope.unregister(next);
                    NDScope.unregister(cache.keys[i], cache.values[i]);
                }
                if (x != inputs) {
                    x.close();
                }
                x = next;
            }
            cache.length = start + t;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray last = allPositions ? x : x.get("-1:, :");
                NDArray logits = lmHead.apply(rmsNorm(last, norm)).toType(DataType.FLOAT32, false);
                NDScope.unregister(logits);
                return logits;
            }
        } finally {
            if (x != inputs) {
                x.close();
            }
            rope[0].close();
            rope[1].close();
        }
    }

    private NDArray layer(int i, NDArray x, NDArray[] rope, NDArray mask, KvCache cache) {
        Layer w = layers.get(i);
        int t = Math.toIntExact(x.getShape().get(0));
        int d = cfg.headDim();
        NDArray h = rmsNorm(x, w.inputNorm());
        NDArray q = applyRope(heads(w.q().apply(h), t, cfg.headCount()), rope);
        NDArray k = applyRope(heads(w.k().apply(h), t, cfg.kvHeadCount()), rope);
        NDArray v = heads(w.v().apply(h), t, cfg.kvHeadCount());
        if (cache.keys[i] != null) {
            NDArray oldK = cache.keys[i];
            NDArray oldV = cache.values[i];
            k = NDArrays.concat(new NDList(oldK, k), 1);
            v = NDArrays.concat(new NDList(oldV, v), 1);
            oldK.close();
            oldV.close();
        }
        cache.keys[i] = k;
        cache.values[i] = v;
        int groups = cfg.headCount() / cfg.kvHeadCount();
        long s = k.getShape().get(1);
        NDArray kk = groups == 1 ? k : expandGroups(k, groups, s, d);
        NDArray vv = groups == 1 ? v : expandGroups(v, groups, s, d);
        NDArray scores = q.toType(DataType.FLOAT32, false).matMul(kk.toType(DataType.FLOAT32, false).transpose(0, 2, 1))
                .mul(1.0 / Math.sqrt(d)).add(mask);
        NDArray probs = scores.softmax(-1).toType(computeType, false);
        NDArray attn = probs.matMul(vv).transpose(1, 0, 2).reshape(t, (long) cfg.headCount() * d);
        NDArray x1 = x.add(w.o().apply(attn));
        NDArray h2 = rmsNorm(x1, w.postNorm());
        NDArray gate = w.gate().apply(h2);
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(w.up().apply(h2));
        return x1.add(w.down().apply(act));
    }

    private static NDArray expandGroups(NDArray kv, int groups, long s, int d) {
        long kvHeads = kv.getShape().get(0);
        return kv.expandDims(1).broadcast(kvHeads, groups, s, d).reshape(kvHeads * groups, s, d);
    }

    /** {@code [T, n*d]} to {@code [n, T, d]}. */
    private NDArray heads(NDArray flat, int t, int n) {
        return flat.reshape(t, n, cfg.headDim()).transpose(1, 0, 2);
    }

    /** RMSNorm computed in F32, cast back, then scaled (transformers' order of operations). */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray x32 = x.toType(DataType.FLOAT32, false);
        NDArray inv = x32.square().mean(new int[] {-1}, true).add(cfg.rmsNormEps()).sqrt();
        return x32.div(inv).toType(computeType, false).mul(weight);
    }

    private NDArray applyRope(NDArray x, NDArray[] rope) {
        int half = cfg.headDim() / 2;
        NDArray x1 = x.get(":, :, :" + half);
        NDArray x2 = x.get(":, :, " + half + ":");
        NDArray cos = rope[0];
        NDArray sin = rope[1];
        return NDArrays.concat(new NDList(x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))), -1);
    }

    /** cos and sin tables {@code [T, d/2]} for positions start..start+T-1, in the compute dtype. */
    private NDArray[] ropeTables(int start, int t) {
        float[] invFreq = RopeFrequencies.inverse(cfg, start + t);
        int half = invFreq.length;
        float[] cos = new float[t * half];
        float[] sin = new float[t * half];
        double scale = cfg.ropeScalingType().equals("linear") ? 1.0 / cfg.ropeScalingFactor() : 1.0;
        for (int p = 0; p < t; p++) {
            float pos = (float) ((start + p) * scale);
            for (int j = 0; j < half; j++) {
                float angle = pos * invFreq[j];
                cos[p * half + j] = (float) Math.cos(angle);
                sin[p * half + j] = (float) Math.sin(angle);
            }
        }
        Shape shape = new Shape(t, half);
        return new NDArray[] {manager.create(cos, shape).toType(computeType, false), manager.create(sin, shape).toType(computeType, false)};
    }

    /** Additive F32 mask {@code [T, start+T]}: 0 where query p may see key j, -inf after it. */
    private NDArray causalMask(int start, int t) {
        int s = start + t;
        float[] m = new float[t * s];
        for (int p = 0; p < t; p++) {
            for (int j = start + p + 1; j < s; j++) {
                m[p * s + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return manager.create(m, new Shape(t, s));
    }
}

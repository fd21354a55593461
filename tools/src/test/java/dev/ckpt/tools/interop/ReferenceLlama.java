package dev.ckpt.tools.interop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A plain, obviously-correct Llama forward pass (double accumulation) over an HF checkpoint held in
 * memory: the test oracle for llama.cpp's next-token distribution on tiny models. HF rotary layout
 * (rotate_half), grouped-query attention, SwiGLU, RMSNorm.
 */
final class ReferenceLlama {
    private final Map<String, float[]> w = new HashMap<>();
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int layers;
    private final int inter;
    private final int vocab;
    private final double eps;
    private final double theta;

    ReferenceLlama(Path dir) throws IOException {
        try (Checkpoint ck = Checkpoint.open(dir)) {
            JsonNode c = ck.config().orElseThrow();
            hidden = c.get("hidden_size").asInt();
            heads = c.get("num_attention_heads").asInt();
            kvHeads = c.path("num_key_value_heads").asInt(heads);
            layers = c.get("num_hidden_layers").asInt();
            inter = c.get("intermediate_size").asInt();
            vocab = c.get("vocab_size").asInt();
            eps = c.path("rms_norm_eps").asDouble(1e-6);
            theta = c.path("rope_theta").asDouble(10000);
            for (TensorInfo t : ck.tensors()) {
                float[] a = new float[(int) t.elementCount()];
                FloatCodec.decode(ck.view(t.name()).data(), 0, t.dtype(), a, 0, a.length);
                w.put(t.name(), a);
            }
        }
    }

    /** Log-softmax of the logits after the last token of {@code ids}. */
    double[] logSoftmaxAfter(int[] ids) {
        int hd = hidden / heads;
        int kvDim = hd * kvHeads;
        double[][][] keys = new double[layers][ids.length][];
        double[][][] values = new double[layers][ids.length][];
        double[] x = null;
        for (int pos = 0; pos < ids.length; pos++) {
            x = new double[hidden];
            float[] emb = w.get("model.embed_tokens.weight");
            for (int i = 0; i < hidden; i++) {
                x[i] = emb[ids[pos] * hidden + i];
            }
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                double[] h = rms(x, w.get(p + "input_layernorm.weight"));
                double[] q = matvec(w.get(p + "self_attn.q_proj.weight"), h, hidden, hidden);
                double[] k = matvec(w.get(p + "self_attn.k_proj.weight"), h, kvDim, hidden);
                double[] v = matvec(w.get(p + "self_attn.v_proj.weight"), h, kvDim, hidden);
                rope(q, heads, hd, pos);
                rope(k, kvHeads, hd, pos);
                keys[l][pos] = k;
                values[l][pos] = v;
                double[] att = new double[hidden];
                for (int hh = 0; hh < heads; hh++) {
                    int kvh = hh / (heads / kvHeads);
                    double[] s = new double[pos + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t <= pos; t++) {
                        double dot = 0;
                        for (int i = 0; i < hd; i++) {
                            dot += q[hh * hd + i] * keys[l][t][kvh * hd + i];
                        }
                        s[t] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[t]);
                    }
                    double sum = 0;
                    for (int t = 0; t <= pos; t++) {
                        s[t] = Math.exp(s[t] - max);
                        sum += s[t];
                    }
                    for (int t = 0; t <= pos; t++) {
                        for (int i = 0; i < hd; i++) {
                            att[hh * hd + i] += s[t] / sum * values[l][t][kvh * hd + i];
                        }
                    }
                }
                double[] o = matvec(w.get(p + "self_attn.o_proj.weight"), att, hidden, hidden);
                for (int i = 0; i < hidden; i++) {
                    x[i] += o[i];
                }
                double[] h2 = rms(x, w.get(p + "post_attention_layernorm.weight"));
                double[] g = matvec(w.get(p + "mlp.gate_proj.weight"), h2, inter, hidden);
                double[] u = matvec(w.get(p + "mlp.up_proj.weight"), h2, inter, hidden);
                for (int i = 0; i < inter; i++) {
                    g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
                }
                double[] d = matvec(w.get(p + "mlp.down_proj.weight"), g, hidden, inter);
                for (int i = 0; i < hidden; i++) {
                    x[i] += d[i];
                }
            }
        }
        double[] hN = rms(x, w.get("model.norm.weight"));
        float[] head = w.containsKey("lm_head.weight") ? w.get("lm_head.weight") : w.get("model.embed_tokens.weight");
        double[] logits = matvec(head, hN, vocab, hidden);
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : logits) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        for (int i = 0; i < logits.length; i++) {
            logits[i] -= lse;
        }
        return logits;
    }

    /** Greedy continuation of {@code ids} for {@code steps} tokens. */
    int[] greedy(int[] ids, int steps) {
        int[] seq = java.util.Arrays.copyOf(ids, ids.length + steps);
        for (int s = 0; s < steps; s++) {
            double[] lp = logSoftmaxAfter(java.util.Arrays.copyOf(seq, ids.length + s));
            int best = 0;
            for (int i = 1; i < lp.length; i++) {
                if (lp[i] > lp[best]) {
                    best = i;
                }
            }
            seq[ids.length + s] = best;
        }
        return java.util.Arrays.copyOfRange(seq, ids.length, seq.length);
    }

    private double[] rms(double[] x, float[] g) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * g[i];
        }
        return out;
    }

    private static double[] matvec(float[] m, double[] v, int rows, int cols) {
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += m[r * cols + c] * v[c];
            }
            out[r] = s;
        }
        return out;
    }

    private void rope(double[] q, int n, int hd, int pos) {
        int half = hd / 2;
        for (int h = 0; h < n; h++) {
            for (int i = 0; i < half; i++) {
                double f = pos * Math.pow(theta, -2.0 * i / hd);
                double c = Math.cos(f);
                double s = Math.sin(f);
                double a = q[h * hd + i];
                double b = q[h * hd + i + half];
                q[h * hd + i] = a * c - b * s;
                q[h * hd + i + half] = b * c + a * s;
            }
        }
    }
}

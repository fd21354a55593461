package dev.ckpt.verify;

import java.util.Map;

/**
 * Test oracle: a plain-Java Llama forward pass written straight from the transformers 4.37
 * equations (double accumulation, no cache: every call recomputes the whole sequence), sharing
 * no code with {@link LlamaDecoder}.
 */
final class ReferenceLlama {
    private final Map<String, float[]> w;
    private final int hidden, inter, layers, heads, kvHeads, vocab, d;
    private final double eps, theta, linearFactor, dynamicFactor;
    private final int maxPos;
    private final boolean tied;

    ReferenceLlama(Map<String, float[]> weights, TinyModels.LlamaSpec s, int vocab) {
        this.w = weights;
        this.hidden = s.hidden();
        this.inter = s.intermediate();
        this.layers = s.layers();
        this.heads = s.heads();
        this.kvHeads = s.kvHeads();
        this.vocab = vocab;
        this.d = s.hidden() / s.heads();
        this.eps = 1e-5;
        this.theta = s.ropeTheta();
        this.linearFactor = "linear".equals(s.ropeScaling()) ? 2 : 1;
        this.dynamicFactor = "dynamic".equals(s.ropeScaling()) ? 2 : 0;
        this.maxPos = 16;
        this.tied = s.tied();
    }

    double[][] embed(int[] ids) {
        double[][] x = new double[ids.length][hidden];
        float[] e = w.get("model.embed_tokens.weight");
        for (int t = 0; t < ids.length; t++) {
            for (int i = 0; i < hidden; i++) {
                x[t][i] = e[ids[t] * hidden + i];
            }
        }
        return x;
    }

    /** Logits of the last position for input embeddings {@code x} ([T][hidden]). */
    double[] lastLogits(double[][] x) {
        int n = x.length;
        double base = theta;
        if (dynamicFactor > 0 && n > maxPos) {
            base = theta * Math.pow(dynamicFactor * n / maxPos - (dynamicFactor - 1), (double) d / (d - 2));
        }
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] h = rms(x, w.get(p + "input_layernorm.weight"));
            double[][] q = matmul(h, w.get(p + "self_attn.q_proj.weight"), heads * d);
            double[][] k = matmul(h, w.get(p + "self_attn.k_proj.weight"), kvHeads * d);
            double[][] v = matmul(h, w.get(p + "self_attn.v_proj.weight"), kvHeads * d);
            rope(q, heads, base);
            rope(k, kvHeads, base);
            double[][] attn = new double[n][heads * d];
            for (int hh = 0; hh < heads; hh++) {
                int kv = hh / (heads / kvHeads);
                for (int t = 0; t < n; t++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= t; j++) {
                        double dot = 0;
                        for (int i = 0; i < d; i++) {
                            dot += q[t][hh * d + i] * k[j][kv * d + i];
                        }
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= t; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j <= t; j++) {
                        for (int i = 0; i < d; i++) {
                            attn[t][hh * d + i] += s[j] / sum * v[j][kv * d + i];
                        }
                    }
                }
            }
            add(x, matmul(attn, w.get(p + "self_attn.o_proj.weight"), hidden));
            double[][] h2 = rms(x, w.get(p + "post_attention_layernorm.weight"));
            double[][] g = matmul(h2, w.get(p + "mlp.gate_proj.weight"), inter);
            double[][] u = matmul(h2, w.get(p + "mlp.up_proj.weight"), inter);
            for (int t = 0; t < n; t++) {
                for (int i = 0; i < inter; i++) {
                    g[t][i] = g[t][i] / (1 + Math.exp(-g[t][i])) * u[t][i];
                }
            }
            add(x, matmul(g, w.get(p + "mlp.down_proj.weight"), hidden));
        }
        double[][] last = rms(new double[][] {x[n - 1]}, w.get("model.norm.weight"));
        return matmul(last, w.get(tied ? "model.embed_tokens.weight" : "lm_head.weight"), vocab)[0];
    }

    private void rope(double[][] x, int nHeads, double base) {
        int half = d / 2;
        for (int t = 0; t < x.length; t++) {
            double pos = t / linearFactor;
            for (int hh = 0; hh < nHeads; hh++) {
                for (int j = 0; j < half; j++) {
                    double a = pos * Math.pow(base, -2.0 * j / d);
                    double x1 = x[t][hh * d + j];
                    double x2 = x[t][hh * d + j + half];
                    x[t][hh * d + j] = x1 * Math.cos(a) - x2 * Math.sin(a);
                    x[t][hh * d + j + half] = x2 * Math.cos(a) + x1 * Math.sin(a);
                }
            }
        }
    }

    private double[][] rms(double[][] x, float[] weight) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double ms = 0;
            for (double v : x[t]) {
                ms += v * v;
            }
            double inv = 1 / Math.sqrt(ms / x[t].length + eps);
            out[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = x[t][i] * inv * weight[i];
            }
        }
        return out;
    }

    /** x [T][in] times W^T where W is [out][in] row-major. */
    static double[][] matmul(double[][] x, float[] weight, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[t][i] * weight[o * in + i];
                }
                y[t][o] = s;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < x[t].length; i++) {
                x[t][i] += y[t][i];
            }
        }
    }
}

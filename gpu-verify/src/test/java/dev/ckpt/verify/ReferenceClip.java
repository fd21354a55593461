package dev.ckpt.verify;

import java.util.Map;

/**
 * Test oracle: CLIP vision tower (hidden state {@code layers - 1}, class token dropped) and the
 * mlp2x_gelu projector in plain Java with double accumulation, from the HF equations: conv patch
 * embedding as an explicit loop, LayerNorm, quick_gelu, exact-erf GELU.
 */
final class ReferenceClip {
    private final Map<String, float[]> w;
    private final TinyModels.ClipSpec c;
    private final int hiddenLm;

    ReferenceClip(Map<String, float[]> weights, TinyModels.ClipSpec c, int hiddenLm) {
        this.w = weights;
        this.c = c;
        this.hiddenLm = hiddenLm;
    }

    double[][] imageEmbeddings(float[] chw) {
        int h = c.hidden();
        int g = c.grid();
        int p = c.patch();
        int size = g * p;
        String v = "tower.vision_model.";
        float[] conv = w.get(v + "embeddings.patch_embedding.weight");
        float[] pos = w.get(v + "embeddings.position_embedding.weight");
        float[] cls = w.get(v + "embeddings.class_embedding");
        double[][] x = new double[g * g + 1][h];
        for (int o = 0; o < h; o++) {
            x[0][o] = cls[o] + pos[o];
        }
        for (int py = 0; py < g; py++) {
            for (int px = 0; px < g; px++) {
                int n = 1 + py * g + px;
                for (int o = 0; o < h; o++) {
                    double s = 0;
                    for (int ch = 0; ch < 3; ch++) {
                        for (int ky = 0; ky < p; ky++) {
                            for (int kx = 0; kx < p; kx++) {
                                s += conv[((o * 3 + ch) * p + ky) * p + kx] * chw[ch * size * size + (py * p + ky) * size + px * p + kx];
                            }
                        }
                    }
                    x[n][o] = s + pos[n * h + o];
                }
            }
        }
        x = layerNorm(x, w.get(v + "pre_layrnorm.weight"), w.get(v + "pre_layrnorm.bias"));
        for (int j = 0; j < c.layers() - 1; j++) {
            x = block(x, v + "encoder.layers." + j + ".");
        }
        double[][] patches = new double[g * g][];
        System.arraycopy(x, 1, patches, 0, g * g);
        double[][] y = linear(patches, "model.mm_projector.0", hiddenLm);
        for (double[] row : y) {
            for (int i = 0; i < row.length; i++) {
                row[i] = 0.5 * row[i] * (1 + erf(row[i] / Math.sqrt(2)));
            }
        }
        return linear(y, "model.mm_projector.2", hiddenLm);
    }

    private double[][] block(double[][] x, String b) {
        int n = x.length;
        int h = c.hidden();
        int heads = c.heads();
        int d = h / heads;
        double[][] y = layerNorm(x, w.get(b + "layer_norm1.weight"), w.get(b + "layer_norm1.bias"));
        double[][] q = linear(y, b + "self_attn.q_proj", h);
        double[][] k = linear(y, b + "self_attn.k_proj", h);
        double[][] v = linear(y, b + "self_attn.v_proj", h);
        double[][] attn = new double[n][h];
        for (int hh = 0; hh < heads; hh++) {
            for (int t = 0; t < n; t++) {
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += q[t][hh * d + i] / Math.sqrt(d) * k[j][hh * d + i];
                    }
                    s[j] = dot;
                    max = Math.max(max, dot);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < n; j++) {
                    for (int i = 0; i < d; i++) {
                        attn[t][hh * d + i] += s[j] / sum * v[j][hh * d + i];
                    }
                }
            }
        }
        double[][] o = linear(attn, b + "self_attn.out_proj", h);
        double[][] x1 = new double[n][h];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < h; i++) {
                x1[t][i] = x[t][i] + o[t][i];
            }
        }
        double[][] m = linear(layerNorm(x1, w.get(b + "layer_norm2.weight"), w.get(b + "layer_norm2.bias")), b + "mlp.fc1", c.intermediate());
        for (double[] row : m) {
            for (int i = 0; i < row.length; i++) {
                row[i] = row[i] / (1 + Math.exp(-1.702 * row[i]));
            }
        }
        double[][] f = linear(m, b + "mlp.fc2", h);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < h; i++) {
                x1[t][i] += f[t][i];
            }
        }
        return x1;
    }

    private double[][] linear(double[][] x, String name, int out) {
        String key = w.containsKey(name + ".weight") ? name : "tower." + name;
        double[][] y = ReferenceLlama.matmul(x, w.get(key + ".weight"), out);
        float[] bias = w.get(key + ".bias");
        for (double[] row : y) {
            for (int i = 0; i < out; i++) {
                row[i] += bias[i];
            }
        }
        return y;
    }

    private static double[][] layerNorm(double[][] x, float[] weight, float[] bias) {
        double[][] out = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double mean = 0;
            for (double v : x[t]) {
                mean += v;
            }
            mean /= x[t].length;
            double var = 0;
            for (double v : x[t]) {
                var += (v - mean) * (v - mean);
            }
            var /= x[t].length;
            out[t] = new double[x[t].length];
            for (int i = 0; i < x[t].length; i++) {
                out[t][i] = (x[t][i] - mean) / Math.sqrt(var + 1e-5) * weight[i] + bias[i];
            }
        }
        return out;
    }

    /** erf by Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction good to 1e-12. */
    static double erf(double x) {
        double t = Math.abs(x);
        double result;
        if (t < 3) {
            double sum = t;
            double term = t;
            for (int n = 1; n < 200; n++) {
                term *= -t * t / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17) {
                    break;
                }
            }
            result = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            result = 1 - Math.exp(-t * t) / (t * Math.sqrt(Math.PI)) * (1 - 1 / (2 * t * t) + 3 / (4 * t * t * t * t));
        }
        return x < 0 ? -result : result;
    }
}

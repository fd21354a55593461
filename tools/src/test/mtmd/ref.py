# Independent numpy forward of a tiny F32 LLaVA's CLIP tower + mlp2x_gelu projector (HF semantics) for an
# RGB image file, compared with the image embeddings llama.cpp's mtmd computed from ckpt's mmproj (probe.cpp).
# Usage: python3 ref.py LLAVA_DIR IMAGE.rgb W H PROBE_OUT.json [--cls-last] [--max-rel R] (exit 1 above R)
# --cls-last: put the class token after the patches, as this llama.cpp release's llava graph does
# (ggml_concat(inp, class_embd) in tools/mtmd/models/llava.cpp), and keep tokens 1..n as it does.
import json, struct, numpy as np, sys
from math import erf
d = sys.argv[1]
raw = open(d + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]; hdr = json.loads(raw[8:8+n]); base = 8 + n
def T(name):
    h = hdr[name]; a, b = h["data_offsets"]; assert h["dtype"] == "F32"
    return np.frombuffer(raw[base+a:base+b], dtype="<f4").reshape(h["shape"]).astype(np.float64)
cfg = json.load(open(d + "/config.json"))
W, H = int(sys.argv[3]), int(sys.argv[4]); cls_last = "--cls-last" in sys.argv
img = np.frombuffer(open(sys.argv[2], "rb").read(), dtype=np.uint8).reshape(H, W, 3).astype(np.float64) / 255.0
mean = np.array([0.48145466, 0.4578275, 0.40821073]); std = np.array([0.26862954, 0.26130258, 0.27577711])
px = ((img - mean) / std).transpose(2, 0, 1)  # [3,H,W]
p = "model.vision_tower.vision_tower.vision_model."
pw = T(p + "embeddings.patch_embedding.weight"); hid, _, P, _ = pw.shape; g = H // P
patches = np.stack([px[:, y*P:(y+1)*P, x*P:(x+1)*P].reshape(-1) for y in range(g) for x in range(g)])
x = patches @ pw.reshape(hid, -1).T
cls = T(p + "embeddings.class_embedding")[None]
x = (np.concatenate([x, cls]) if cls_last else np.concatenate([cls, x])) + T(p + "embeddings.position_embedding.weight")
def ln(x, w, b, eps=1e-5):
    m = x.mean(-1, keepdims=True); v = ((x - m) ** 2).mean(-1, keepdims=True); return (x - m) / np.sqrt(v + eps) * w + b
x = ln(x, T(p + "pre_layrnorm.weight"), T(p + "pre_layrnorm.bias"))
heads = hid // 64; L = sum(1 for k in hdr if k.startswith(p + "encoder.layers.") and k.endswith("mlp.fc1.weight"))
sel = cfg.get("mm_vision_select_layer", -2); keep = L + sel + 1
lin = lambda x, n: x @ T(n + ".weight").T + T(n + ".bias")
for j in range(keep):
    b = p + f"encoder.layers.{j}."
    h = ln(x, T(b + "layer_norm1.weight"), T(b + "layer_norm1.bias"))
    q, k, v = (lin(h, b + f"self_attn.{n}_proj").reshape(-1, heads, 64).transpose(1, 0, 2) for n in "qkv")
    a = q @ k.transpose(0, 2, 1) / 8.0; a = np.exp(a - a.max(-1, keepdims=True)); a /= a.sum(-1, keepdims=True)
    o = (a @ v).transpose(1, 0, 2).reshape(-1, hid)
    x = x + lin(o, b + "self_attn.out_proj")
    h = ln(x, T(b + "layer_norm2.weight"), T(b + "layer_norm2.bias"))
    f = lin(h, b + "mlp.fc1"); f = f / (1 + np.exp(-1.702 * f))
    x = x + lin(f, b + "mlp.fc2")
feat = x[1:]
y = lin(feat, "model.mm_projector.0"); y = 0.5 * y * (1 + np.vectorize(erf)(y / np.sqrt(2)))
y = lin(y, "model.mm_projector.2")
got = np.array(json.load(open(sys.argv[5]))["values"]).reshape(y.shape)
err = np.abs(got - y).max(); scale = np.abs(y).max()
print(json.dumps({"shape": list(y.shape), "max_abs_err": err, "max_abs_ref": scale, "rel": err / scale,
                  "cos": float((got * y).sum() / np.linalg.norm(got) / np.linalg.norm(y))}))
if "--max-rel" in sys.argv and err / scale > float(sys.argv[sys.argv.index("--max-rel") + 1]):
    sys.exit("relative error %.3g above %s" % (err / scale, sys.argv[sys.argv.index("--max-rel") + 1]))

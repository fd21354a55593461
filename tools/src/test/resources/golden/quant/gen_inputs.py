"""Deterministic f32 inputs for the quant golden vectors (see README.md). numpy only."""
import numpy as np

def blocks32(rng):
    out = []
    for s in (1.0, 0.02, 1e-3, 50.0):
        out += [rng.standard_normal(32) * s for _ in range(24)]
    out.append(np.zeros(32))                                   # all zero
    b = np.zeros(32); b[5] = 3.0; out.append(b)                 # single spike
    b = np.zeros(32); b[17] = -7.25; out.append(b)              # single negative spike
    out.append(-np.abs(rng.standard_normal(32)))                # all negative: negative max
    b = rng.standard_normal(32); b[3] = -9.0; out.append(b)     # negative max by |x|
    b = rng.standard_normal(32); b[3] = 9.0; b[9] = -9.0; out.append(b)  # |max| tie, first wins
    for d in (1.0, 0.5, 0.25, 1 / 8.0, 3.0):                    # exact ties after scaling
        out.append((np.arange(32) - 16 + 0.5) * d)
        out.append(np.concatenate([np.arange(-8, 8), np.arange(-8, 8)]) * d + d / 2)
        out.append(np.linspace(-127, 127, 32) / 127 * d * 8.5)
    for s in (1e-5, 1e-7, 3e-8, 1e-30, 1e-40):                   # subnormal f16 scales, tiny f32
        out.append(rng.standard_normal(32) * s)
    b = rng.standard_normal(32); b[16:] = 0; out.append(b)      # half zero
    out.append(np.full(32, 0.3))                                # constant
    out.append(np.full(32, -0.3))
    out.append(np.full(32, 65504.0 / 16))                       # large
    while len(out) < 256:
        out.append(rng.standard_normal(32) * 10 ** rng.uniform(-4, 2))
    return np.concatenate(out[:256]).astype('<f4')

def blocks256(rng):
    out = []
    for s in (1.0, 0.02, 1e-3, 20.0):
        out += [rng.standard_normal(256) * s for _ in range(4)]
    out.append(np.zeros(256))
    b = np.zeros(256); b[77] = 2.5; out.append(b)
    b = np.zeros(256); b[200] = -4.0; out.append(b)
    out.append(-np.abs(rng.standard_normal(256)))
    b = rng.standard_normal(256); b[:32] *= 1e-4; out.append(b)     # one sub-block's 6-bit scale -> 0 ("keep L")
    b = rng.standard_normal(256) * 1e-3; b[40] = 50.0; out.append(b)  # spike dominates super-block
    b = rng.standard_normal(256)                                     # mixed-sign sub-block maxima
    for j in range(16):
        b[16 * j + 3] = (6.0 if j % 2 else -6.0) * (1 + j / 10)
    out.append(b)
    out.append((np.arange(256) % 32 - 16 + 0.5) / 4)                 # ties
    out.append(np.tile(np.arange(-16, 16), 8) * 0.125)
    for s in (1e-5, 1e-7, 1e-30):
        out.append(rng.standard_normal(256) * s)
    b = rng.standard_normal(256); b[128:] = 0; out.append(b)
    out.append(np.abs(rng.standard_normal(256)) + 1.0)              # all positive: min > 0
    out.append(np.full(256, 0.7))
    while len(out) < 32:
        out.append(rng.standard_normal(256) * 10 ** rng.uniform(-3, 1))
    return np.concatenate(out[:32]).astype('<f4')

if __name__ == '__main__':
    rng = np.random.default_rng(20261122)
    blocks32(rng).tofile('input-32.f32')
    blocks256(rng).tofile('input-256.f32')

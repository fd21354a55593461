package dev.ckpt.formats.numeric;

/**
 * bfloat16 (safetensors {@code BF16}: the upper 16 bits of an IEEE binary32) conversions,
 * bit-exact with PyTorch's {@code tensor.to(torch.bfloat16)} ({@code c10::round_to_nearest_even}).
 *
 * <p>float -> bf16 rounds to nearest, ties to even (overflow gives infinity, subnormals keep their
 * top bits); every NaN, whatever its sign or payload, becomes {@code 0x7FC0}. bf16 -> float is exact.
 */
public final class Bf16 {
    /** The one NaN pattern c10 produces. */
    public static final short QUIET_NAN = 0x7FC0;

    private Bf16() {
    }

    /** Rounds {@code value} to the nearest bfloat16 (ties to even), as PyTorch does. */
    public static short fromFloat(float value) {
        if (value != value) {
            return QUIET_NAN;
        }
        int u = Float.floatToRawIntBits(value);
        return (short) ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16);
    }

    /** The exact float value of the bfloat16 with bits {@code bits}. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}

package dev.ckpt.formats.numeric;

/**
 * IEEE 754 binary16 ("half", safetensors {@code F16}) conversions, bit-exact with PyTorch's
 * {@code tensor.to(torch.float16)} on CPU ({@code c10::detail::fp16_ieee_from_fp32_value}).
 *
 * <p>float -> half rounds to nearest, ties to even; magnitudes from 65520 up become infinity;
 * results below the normal range become subnormals or signed zero; every NaN becomes the quiet
 * NaN {@code 0x7E00} with the input's sign bit (c10 does not keep NaN payloads). half -> float is exact.
 */
public final class F16 {
    /** Bits of the half quiet NaN that c10 produces (sign bit added separately). */
    public static final short QUIET_NAN = 0x7E00;

    private F16() {
    }

    /** Rounds {@code value} to the nearest half (ties to even), as PyTorch does. */
    public static short fromFloat(float value) {
        short h = Float.floatToFloat16(value);
        // JDK keeps NaN payload bits; c10 returns sign | 0x7E00 for every NaN.
        if ((h & 0x7FFF) > 0x7C00) {
            return (short) ((h & 0x8000) | QUIET_NAN);
        }
        return h;
    }

    /** The exact float value of the half with bits {@code bits}. */
    public static float toFloat(short bits) {
        return Float.float16ToFloat(bits);
    }
}

package dev.ckpt.formats;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Element types of tensors, spelled and ordered as the safetensors spec declares them.
 * The declaration order is the spec's "increasing alignment" order that writers sort by.
 * Sizes are in bits because F4/F6 are sub-byte.
 */
public enum DType {
    BOOL(8), F4(4), F6_E2M3(6), F6_E3M2(6), U8(8), I8(8), F8_E5M2(8), F8_E4M3(8), F8_E8M0(8),
    F8_E4M3FNUZ(8), F8_E5M2FNUZ(8), I16(16), U16(16), F16(16), BF16(16), I32(32), U32(32), F32(32),
    C64(64), F64(64), I64(64), U64(64);

    private static final Map<String, DType> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(DType::name, Function.identity()));

    private final int bitSize;

    DType(int bitSize) {
        this.bitSize = bitSize;
    }

    /** Bits per element. */
    public int bitSize() {
        return bitSize;
    }

    /** True for the float types this toolkit computes with (F32, F16, BF16). */
    public boolean isComputeFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * Bytes needed for {@code elementCount} elements.
     *
     * @throws ArithmeticException on overflow or when the bit count is not a whole number of bytes
     */
    public long byteSizeFor(long elementCount) {
        long bits = Math.multiplyExact(elementCount, (long) bitSize);
        if (bits % 8 != 0) {
            throw new ArithmeticException(elementCount + " elements of " + this + " are not a whole number of bytes");
        }
        return bits / 8;
    }

    /** The dtype with the given safetensors name, or null when the name is unknown. */
    public static DType bySafetensorsName(String name) {
        return BY_NAME.get(name);
    }
}

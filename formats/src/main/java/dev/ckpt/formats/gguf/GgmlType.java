package dev.ckpt.formats.gguf;

import dev.ckpt.formats.DType;

/**
 * ggml tensor element types as GGUF stores them ({@code include/ggml.h}, {@code ggml.c} type_traits).
 * Each constant carries its wire id explicitly (ids are not ordinals: retired ids leave gaps), the
 * number of elements per block and the bytes per block. Unquantized types have block size 1.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), I8(24, 1, 1), I16(25, 1, 2),
    I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8), BF16(30, 1, 2);

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) {
            BY_ID[t.id] = t;
        }
    }

    private final int id;
    private final int blockSize;
    private final int typeSize;

    GgmlType(int id, int blockSize, int typeSize) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
    }

    /** The type id written in GGUF tensor infos. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for unquantized types, 32 or 256 for quantized ones). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int typeSize() {
        return typeSize;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** The type with this wire id, or null when the id is unknown, retired or out of scope (IQ*, TQ*, MXFP4). */
    public static GgmlType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    /**
     * Bytes of one row of {@code ne0} elements.
     *
     * @throws ArithmeticException when {@code ne0} is not a multiple of the block size or on overflow
     */
    public long rowBytes(long ne0) {
        if (ne0 % blockSize != 0) {
            throw new ArithmeticException(ne0 + " elements are not a whole number of " + this + " blocks of " + blockSize);
        }
        return Math.multiplyExact(ne0 / blockSize, (long) typeSize);
    }

    /**
     * Bytes of a tensor with ggml dims {@code ne} (innermost first).
     *
     * @throws ArithmeticException on overflow or a partial block
     */
    public long byteSizeFor(long[] ne) {
        long bytes = ne.length == 0 ? typeSize : rowBytes(ne[0]);
        for (int i = 1; i < ne.length; i++) {
            bytes = Math.multiplyExact(bytes, ne[i]);
        }
        return bytes;
    }

    /** The matching safetensors dtype for unquantized types, or null for quantized ones. */
    public DType dtype() {
        return switch (this) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            case F64 -> DType.F64;
            case I8 -> DType.I8;
            case I16 -> DType.I16;
            case I32 -> DType.I32;
            case I64 -> DType.I64;
            default -> null;
        };
    }

    /** The ggml type storing a safetensors dtype unchanged, or null when GGUF has none (e.g. U8, BOOL). */
    public static GgmlType of(DType dtype) {
        return switch (dtype) {
            case F32 -> F32;
            case F16 -> F16;
            case BF16 -> BF16;
            case F64 -> F64;
            case I8 -> I8;
            case I16 -> I16;
            case I32 -> I32;
            case I64 -> I64;
            default -> null;
        };
    }
}

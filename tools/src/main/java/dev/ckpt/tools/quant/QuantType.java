package dev.ckpt.tools.quant;

import dev.ckpt.formats.gguf.GgmlType;
import java.util.Locale;

/**
 * What {@code ckpt quantize --type} accepts: llama.cpp's file types (a base ggml type plus
 * llama.cpp's per-tensor mix rules) and two "pure" block types with no mix (every quantizable tensor
 * gets the type, with llama.cpp's shape fallbacks), as {@code llama-quantize --pure} does.
 * {@link #ftype} is the {@code general.file_type} (llama_ftype) written to the file.
 */
public enum QuantType {
    Q8_0(7, GgmlType.Q8_0, false), Q4_0(2, GgmlType.Q4_0, false), Q4_1(3, GgmlType.Q4_1, false),
    Q5_0(8, GgmlType.Q5_0, false), Q5_1(9, GgmlType.Q5_1, false), Q6_K(18, GgmlType.Q6_K, false),
    Q4_K_S(14, GgmlType.Q4_K, false), Q4_K_M(15, GgmlType.Q4_K, false),
    Q5_K_S(16, GgmlType.Q5_K, false), Q5_K_M(17, GgmlType.Q5_K, false),
    Q4_K(14, GgmlType.Q4_K, true), Q5_K(16, GgmlType.Q5_K, true);

    private final int ftype;
    private final GgmlType base;
    private final boolean pure;

    QuantType(int ftype, GgmlType base, boolean pure) {
        this.ftype = ftype;
        this.base = base;
        this.pure = pure;
    }

    /** llama_ftype written as {@code general.file_type}. */
    public int ftype() {
        return ftype;
    }

    /** The default ggml type of quantized tensors. */
    public GgmlType base() {
        return base;
    }

    /** True when no per-tensor mix rules apply. */
    public boolean pure() {
        return pure;
    }

    /** Parses a type name, case-insensitively. @throws IllegalArgumentException listing the valid names */
    public static QuantType parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown quantization type " + s + " (expected one of "
                    + java.util.Arrays.toString(values()) + ")");
        }
    }
}

package dev.ckpt.formats.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value: a record per wire type. Unsigned types keep their value in a wider Java
 * type ({@code UInt32} in a long); arrays are homogeneous and never nested (llama.cpp rejects nesting).
 */
public sealed interface GgufValue {
    GgufValueType type();

    record UInt8(int value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.UINT8; }
    }

    record Int8(byte value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.INT8; }
    }

    record UInt16(int value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.UINT16; }
    }

    record Int16(short value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.INT16; }
    }

    record UInt32(long value) implements GgufValue {
        public UInt32 {
            if (value < 0 || value > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("uint32 out of range: " + value);
            }
        }
        public GgufValueType type() { return GgufValueType.UINT32; }
    }

    record Int32(int value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.INT32; }
    }

    record Float32(float value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.FLOAT32; }
    }

    record Bool(boolean value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.BOOL; }
    }

    record Str(String value) implements GgufValue {
        public Str {
            Objects.requireNonNull(value, "value");
        }
        public GgufValueType type() { return GgufValueType.STRING; }
    }

    /** Raw bits of an unsigned 64-bit value. */
    record UInt64(long value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.UINT64; }
    }

    record Int64(long value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.INT64; }
    }

    record Float64(double value) implements GgufValue {
        public GgufValueType type() { return GgufValueType.FLOAT64; }
    }

    /** A homogeneous array; every item has {@code elementType}, which is never ARRAY. */
    record Array(GgufValueType elementType, List<GgufValue> items) implements GgufValue {
        public Array {
            Objects.requireNonNull(elementType, "elementType");
            if (elementType == GgufValueType.ARRAY) {
                throw new IllegalArgumentException("nested GGUF arrays are not supported");
            }
            items = List.copyOf(items);
            for (GgufValue v : items) {
                if (v.type() != elementType) {
                    throw new IllegalArgumentException("array of " + elementType + " holds a " + v.type());
                }
            }
        }
        public GgufValueType type() { return GgufValueType.ARRAY; }
    }

    static Str of(String s) {
        return new Str(s);
    }

    static UInt32 u32(long v) {
        return new UInt32(v);
    }

    static Array strings(List<String> values) {
        return new Array(GgufValueType.STRING, values.stream().<GgufValue>map(Str::new).toList());
    }

    static Array floats(float[] values) {
        GgufValue[] out = new GgufValue[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = new Float32(values[i]);
        }
        return new Array(GgufValueType.FLOAT32, List.of(out));
    }

    static Array ints(int[] values) {
        GgufValue[] out = new GgufValue[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = new Int32(values[i]);
        }
        return new Array(GgufValueType.INT32, List.of(out));
    }

    /** This value as a long when it is an integer type (unsigned kept non-negative except UInt64 raw bits). */
    default long asLong() {
        return switch (this) {
            case UInt8 v -> v.value();
            case Int8 v -> v.value();
            case UInt16 v -> v.value();
            case Int16 v -> v.value();
            case UInt32 v -> v.value();
            case Int32 v -> v.value();
            case UInt64 v -> v.value();
            case Int64 v -> v.value();
            case Bool v -> v.value() ? 1 : 0;
            default -> throw new IllegalStateException(type() + " is not an integer");
        };
    }

    /** This value as a double when it is numeric. */
    default double asDouble() {
        return switch (this) {
            case Float32 v -> v.value();
            case Float64 v -> v.value();
            default -> asLong();
        };
    }
}

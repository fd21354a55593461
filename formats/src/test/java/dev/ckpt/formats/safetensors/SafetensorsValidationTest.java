package dev.ckpt.formats.safetensors;

import static dev.ckpt.formats.safetensors.SafetensorsBytes.file;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The malformed-file cases of the Rust crate's tests (formats-hub.md B4), one per {@link Kind}. */
class SafetensorsValidationTest {
    private static final String I32_2X2 = "{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";

    @TempDir
    Path tmp;

    private Kind kindOf(byte[] bytes) throws Exception {
        Path f = tmp.resolve("bad.safetensors");
        Files.write(f, bytes);
        try (SafetensorsFile ignored = SafetensorsFile.open(f)) {
            return null;
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith("bad.safetensors: ").doesNotContain("\n");
            return e.kind();
        }
    }

    @Test
    void headerTooSmall() throws Exception {
        assertThat(kindOf(new byte[0])).isEqualTo(Kind.HEADER_TOO_SMALL);
        assertThat(kindOf(new byte[7])).isEqualTo(Kind.HEADER_TOO_SMALL);
    }

    @Test
    void invalidHeaderLength() throws Exception {
        assertThat(kindOf(file(60, new byte[0], 0))).isEqualTo(Kind.INVALID_HEADER_LENGTH);
    }

    @Test
    void headerTooLarge() throws Exception {
        byte[] json = I32_2X2.getBytes(StandardCharsets.UTF_8);
        assertThat(kindOf(file(0xffffffff0000003cL, json, 16))).isEqualTo(Kind.HEADER_TOO_LARGE);
        assertThat(kindOf(file(100_000_001L, json, 16))).isEqualTo(Kind.HEADER_TOO_LARGE);
    }

    @Test
    void nonUtf8Header() throws Exception {
        assertThat(kindOf(file(1, new byte[] {(byte) 0xff}, 0))).isEqualTo(Kind.INVALID_HEADER);
    }

    @Test
    void notJson() throws Exception {
        assertThat(kindOf(file("{", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("[]", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{}{}", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{\"__metadata__\":{\"a\":1}}", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0]}}", 0))).isEqualTo(Kind.INVALID_JSON);
        assertThat(kindOf(file("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4))).isEqualTo(Kind.INVALID_JSON);
    }

    @Test
    void unknownDtype() throws Exception {
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1))).isEqualTo(Kind.UNKNOWN_DTYPE);
    }

    @Test
    void duplicateName() throws Exception {
        String t = "\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        assertThat(kindOf(file("{" + t + "," + t + "}", 1))).isEqualTo(Kind.DUPLICATE_TENSOR);
    }

    @Test
    void jsonAttackOverlappingOffsets() throws Exception {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < 10; i++) {
            sb.append(i == 0 ? "" : ",").append("\"weight_").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}");
        }
        assertThat(kindOf(file(sb.append("}").toString(), 16))).isEqualTo(Kind.INVALID_OFFSET);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4))).isEqualTo(Kind.INVALID_OFFSET);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2))).isEqualTo(Kind.INVALID_OFFSET);
    }

    @Test
    void incompleteBuffer() throws Exception {
        byte[] ok = file(I32_2X2, 16);
        assertThat(kindOf(SafetensorsBytes.concat(ok, "extra_bogus_data_for_polyglot_file".getBytes(StandardCharsets.UTF_8))))
                .isEqualTo(Kind.INCOMPLETE_BUFFER);
        assertThat(kindOf(file(I32_2X2, 14))).isEqualTo(Kind.INCOMPLETE_BUFFER);
    }

    @Test
    void tensorInvalidInfo() throws Exception {
        assertThat(kindOf(file("{\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", 4)))
                .isEqualTo(Kind.TENSOR_INVALID_INFO);
    }

    @Test
    void validationOverflow() throws Exception {
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[2,18446744073709551614],\"data_offsets\":[0,16]}}", 16)))
                .isEqualTo(Kind.VALIDATION_OVERFLOW);
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[2,9223372036854775807],\"data_offsets\":[0,16]}}", 16)))
                .isEqualTo(Kind.VALIDATION_OVERFLOW);
    }

    @Test
    void misalignedSlice() throws Exception {
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"F4\",\"shape\":[1,3],\"data_offsets\":[0,2]}}", 2))).isEqualTo(Kind.MISALIGNED_SLICE);
    }

    @Test
    void acceptedOddities() throws Exception {
        assertThat(kindOf(file("{}\r \t\n", 0))).isNull();
        assertThat(kindOf(file("\t\n{}\r ", 0))).isNull();
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4))).isNull();
        assertThat(kindOf(file("{\"t\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[0,0]}}", 0))).isNull();
        assertThat(kindOf(file(I32_2X2, 16))).isNull();
    }

    @Test
    void directoryIsUnreadable() throws Exception {
        Path d = tmp.resolve("d.safetensors");
        Files.createDirectory(d);
        assertThatThrownBy(() -> SafetensorsFile.open(d)).isInstanceOf(FormatException.class)
                .extracting(e -> ((FormatException) e).kind()).isEqualTo(Kind.UNREADABLE);
    }

    @Test
    void writerMatchesRustGoldens() throws Exception {
        Path f = tmp.resolve("empty.safetensors");
        SafetensorsWriter.write(f, List.of(), Map.of());
        assertThat(Files.readAllBytes(f)).containsExactly(8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' ');
        SafetensorsWriter.write(f, List.of(), Map.of("framework", "pt"));
        assertThat(Files.size(f)).isEqualTo(8 + 40);
        Path one = tmp.resolve("one.safetensors");
        SafetensorsWriter.write(one, List.of(new PlannedTensor(new TensorInfo("test", DType.I32, Shape.of(2, 2)), t -> { })), Map.of());
        assertThat(Files.readAllBytes(one)[0]).isEqualTo((byte) 64);
        Path order = tmp.resolve("order.safetensors");
        SafetensorsWriter.write(order, List.of(
                new PlannedTensor(new TensorInfo("a", DType.F16, Shape.of(3)), t -> t.fill((byte) 1)),
                new PlannedTensor(new TensorInfo("b", DType.I32, Shape.of(1)), t -> t.fill((byte) 2))), Map.of());
        try (SafetensorsFile sf = SafetensorsFile.open(order)) {
            assertThat(sf.tensors()).extracting(TensorInfo::name).containsExactly("b", "a");
            assertThat(sf.header().dataStart() % 8).isZero();
            MemorySegment a = sf.view("a").data();
            assertThat(a.get(ValueLayout.JAVA_BYTE, 5)).isEqualTo((byte) 1);
            assertThat(a.isReadOnly()).isTrue();
        }
    }
}

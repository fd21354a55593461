package dev.ckpt.formats.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Random bytes and random mutations of a valid file either open cleanly or fail with FormatException. */
class SafetensorsFuzzTest {
    private static final byte[] VALID = validFile();

    private static byte[] validFile() {
        try {
            Path f = Files.createTempFile("valid", ".safetensors");
            SafetensorsWriter.write(f, List.of(
                    new PlannedTensor(new TensorInfo("model.embed.weight", DType.BF16, Shape.of(4, 3)), t -> t.fill((byte) 7)),
                    new PlannedTensor(new TensorInfo("norm", DType.F32, Shape.of(3)), t -> t.fill((byte) 1)),
                    new PlannedTensor(new TensorInfo("ids", DType.I64, Shape.of(2)), t -> t.fill((byte) 2))),
                    Map.of("format", "pt"));
            byte[] b = Files.readAllBytes(f);
            Files.delete(f);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Property(tries = 300)
    void randomBytesOnlyGiveFormatException(@ForAll @Size(max = 200) byte[] bytes) throws IOException {
        check(bytes);
    }

    @Property(tries = 500)
    void mutationsOfAValidFileOnlyGiveFormatException(@ForAll("mutated") byte[] bytes) throws IOException {
        check(bytes);
    }

    @Provide
    Arbitrary<byte[]> mutated() {
        Arbitrary<byte[]> flips = Arbitraries.integers().between(0, VALID.length - 1).list().ofMinSize(1).ofMaxSize(4)
                .flatMap(positions -> Arbitraries.bytes().list().ofSize(positions.size()).map(values -> {
                    byte[] b = VALID.clone();
                    for (int i = 0; i < positions.size(); i++) {
                        b[positions.get(i)] = values.get(i);
                    }
                    return b;
                }));
        Arbitrary<byte[]> truncations = Arbitraries.integers().between(0, VALID.length - 1)
                .map(n -> java.util.Arrays.copyOf(VALID, n));
        Arbitrary<byte[]> digitEdits = Arbitraries.integers().between(8, VALID.length - 1).map(pos -> {
            byte[] b = VALID.clone();
            if (b[pos] >= '0' && b[pos] <= '9') {
                b[pos] = (byte) ('0' + (b[pos] - '0' + 1) % 10);
            }
            return b;
        });
        return Arbitraries.oneOf(flips, truncations, digitEdits);
    }

    private static void check(byte[] bytes) throws IOException {
        Path f = Files.createTempFile("fuzz", ".safetensors");
        try {
            Files.write(f, bytes);
            try (SafetensorsFile sf = SafetensorsFile.open(f)) {
                for (TensorInfo t : sf.tensors()) {
                    TensorView v = sf.view(t.name());
                    assertThat(v.data().byteSize()).isEqualTo(t.byteSize());
                }
            } catch (FormatException e) {
                assertThat(e.kind()).isNotNull();
                assertThat(e.getMessage()).doesNotContain("\n");
            }
        } finally {
            Files.delete(f);
        }
    }
}

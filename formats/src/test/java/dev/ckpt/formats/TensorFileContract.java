package dev.ckpt.formats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link TensorFile} reader must have. A format's test extends this class and
 * says how to write a file of that format holding given tensors, and how to open it.
 */
public abstract class TensorFileContract {
    @TempDir
    protected Path tmp;

    /** One tensor to store: info plus its exact little-endian bytes. */
    public record Sample(TensorInfo info, byte[] bytes) {
    }

    /** Writes {@code samples} into a new file under {@code dir} in this format; returns the file. */
    protected abstract Path write(Path dir, List<Sample> samples) throws Exception;

    /** Opens {@code file} with the reader under test. */
    protected abstract TensorFile open(Path file) throws Exception;

    /** The dtypes this format can store (default: the float and integer types every format has). */
    protected List<DType> dtypes() {
        return List.of(DType.F32, DType.F16, DType.BF16, DType.I64, DType.I32, DType.U8);
    }

    protected List<Sample> samples() {
        SplittableRandom r = new SplittableRandom(3);
        List<Sample> out = new ArrayList<>();
        int i = 0;
        for (DType d : dtypes()) {
            for (long[] dims : new long[][] {{3}, {2, 5}, {1, 2, 3}}) {
                TensorInfo info = new TensorInfo("layer." + i++ + "." + d.name().toLowerCase() + ".weight", d, Shape.of(dims));
                byte[] b = new byte[(int) info.byteSize()];
                for (int k = 0; k < b.length; k++) {
                    b[k] = (byte) r.nextInt(256);
                }
                out.add(new Sample(info, b));
            }
        }
        return out;
    }

    @Test
    void listsEveryTensorWithItsInfoAndServesItsExactBytes() throws Exception {
        List<Sample> samples = samples();
        Path file = write(tmp, samples);
        try (TensorFile f = open(file)) {
            assertThat(f.path().getFileName()).isEqualTo(file.getFileName());
            Map<String, TensorInfo> listed = new TreeMap<>();
            f.tensors().forEach(t -> listed.put(t.name(), t));
            assertThat(listed).hasSize(samples.size());
            for (Sample s : samples) {
                assertThat(listed.get(s.info().name())).isEqualTo(s.info());
                TensorView v = f.view(s.info().name());
                assertThat(v.info()).isEqualTo(s.info());
                assertThat(v.data().mismatch(MemorySegment.ofArray(s.bytes()))).isEqualTo(-1L);
            }
        }
    }

    @Test
    void unknownNameIsIllegalArgument() throws Exception {
        Path file = write(tmp, samples());
        try (TensorFile f = open(file)) {
            assertThatThrownBy(() -> f.view("no.such.tensor")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void viewsAreReadOnly() throws Exception {
        Path file = write(tmp, samples());
        try (TensorFile f = open(file)) {
            assertThat(f.view(f.tensors().getFirst().name()).data().isReadOnly()).isTrue();
        }
    }
}

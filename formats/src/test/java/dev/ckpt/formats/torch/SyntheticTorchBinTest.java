package dev.ckpt.formats.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.formats.synthetic.SyntheticTorchBin;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .bin variant of the synthetic model reads back to exactly the tensors of the safetensors variant. */
class SyntheticTorchBinTest {
    @TempDir
    Path tmp;

    @Test
    void binAndSafetensorsVariantsHoldTheSameTensors() throws Exception {
        SyntheticLlama.Options o = SyntheticLlama.Options.tiny();
        Path bin = tmp.resolve("bin");
        Path st = tmp.resolve("st");
        assertThat(SyntheticTorchBin.write(bin, o)).hasSize(2);
        SyntheticLlama.write(st, o);
        try (Checkpoint b = Checkpoint.open(bin); Checkpoint s = Checkpoint.open(st)) {
            assertThat(b.problems()).isEmpty();
            assertThat(b.indexFile()).isPresent();
            assertThat(b.tensors()).containsExactlyInAnyOrderElementsOf(s.tensors());
            assertThat(b.tensors().getFirst().name()).isEqualTo("model.embed_tokens.weight"); // state-dict order kept
            for (TensorInfo t : s.tensors()) {
                assertThat(b.view(t.name()).data().mismatch(s.view(t.name()).data())).as(t.name()).isEqualTo(-1);
            }
            assertThat(b.config()).isEqualTo(s.config());
        }
    }
}

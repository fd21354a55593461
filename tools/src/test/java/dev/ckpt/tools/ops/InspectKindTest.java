package dev.ckpt.tools.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectKindTest {
    @TempDir
    Path tmp;

    private static PlannedTensor t(String name) {
        return new PlannedTensor(new TensorInfo(name, DType.F16, Shape.of(2, 2)), s -> s.fill((byte) 0));
    }

    @Test
    void peftAdapterFromConfigAndTensorNames() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("weird-name-full-model"));
        SafetensorsWriter.write(dir.resolve("adapter_model.safetensors"), List.of(
                t("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"),
                t("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight")), Map.of());
        Files.writeString(dir.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":8,\"lora_alpha\":16}");
        Inspect.Report r = Inspect.run(dir);
        assertThat(r.kind()).isEqualTo(Inspect.Kind.PEFT_ADAPTER);
        assertThat(r.config()).containsKeys("peft_type", "r", "lora_alpha");
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void llavaProjector() throws Exception {
        Path f = tmp.resolve("model.safetensors");
        SafetensorsWriter.write(f, List.of(t("model.mm_projector.0.weight"), t("model.mm_projector.2.weight")), Map.of());
        assertThat(Inspect.run(f).kind()).isEqualTo(Inspect.Kind.LLAVA_PROJECTOR);
    }

    @Test
    void ggufByMagicAndUnknown() throws Exception {
        Path g = tmp.resolve("model.gguf");
        dev.ckpt.formats.gguf.GgufWriter.write(g, Map.of("general.architecture", dev.ckpt.formats.gguf.GgufValue.of("llama")),
                List.of(), dev.ckpt.formats.gguf.GgufWriter.Options.defaults());
        assertThat(Inspect.run(g).kind()).isEqualTo(Inspect.Kind.GGUF);
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Inspect.run(bad)).isInstanceOf(dev.ckpt.formats.FormatException.class);
        Path u = tmp.resolve("u.safetensors");
        SafetensorsWriter.write(u, List.of(t("foo")), Map.of());
        assertThat(Inspect.run(u).kind()).isEqualTo(Inspect.Kind.UNKNOWN);
    }
}

package dev.ckpt.tools.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.CheckpointWriter;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.ProgressListener;
import dev.ckpt.formats.Shape;
import dev.ckpt.formats.SideFile;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.formats.numeric.FloatCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test checkpoints with explicit values, written through the foundation's writer. */
public final class Fixtures {
    public static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    /** One tensor with its values given as floats (encoded into {@code dtype} with RNE). */
    public record T(String name, DType dtype, long[] shape, float[] values) {
        public static T of(String name, DType dtype, long[] shape, float... values) {
            return new T(name, dtype, shape, values);
        }

        PlannedTensor planned() {
            TensorInfo info = new TensorInfo(name, dtype, Shape.of(shape));
            if (info.elementCount() != values.length) {
                throw new IllegalArgumentException(name + ": " + values.length + " values for " + info.shape());
            }
            if (!dtype.isComputeFloat()) { // integer / quantized stand-ins: zero bytes
                return new PlannedTensor(info, target -> target.fill((byte) 0));
            }
            return new PlannedTensor(info, target -> FloatCodec.encode(values, 0, values.length, dtype, target, 0));
        }
    }

    public static long[] shape(long... dims) {
        return dims;
    }

    /** A small llama config.json. */
    public static ObjectNode llamaConfig(int layers, int hidden, int vocab, int positions) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama").put("num_hidden_layers", layers).put("hidden_size", hidden)
                .put("vocab_size", vocab).put("max_position_embeddings", positions).put("rms_norm_eps", 1e-6)
                .put("torch_dtype", "float16");
        return c;
    }

    /** Writes a checkpoint directory with {@code config} (may be null), the tensors and extra side files. */
    public static Path write(Path dir, ObjectNode config, List<T> tensors, SideFile... extra) throws IOException {
        List<SideFile> sides = new ArrayList<>();
        if (config != null) {
            sides.add(SideFile.Bytes.utf8("config.json", config.toPrettyString()));
        }
        sides.addAll(List.of(extra));
        CheckpointWriter.write(dir, tensors.stream().map(T::planned).toList(), sides,
                new WriteOptions(WriteOptions.DEFAULT_MAX_SHARD_BYTES, false, 1), ProgressListener.NONE);
        return dir;
    }

    /**
     * Writes a PEFT adapter folder: adapter_config.json and adapter_model.safetensors, plus LLaVA's
     * non_lora_trainables.safetensors and config.json when given (null to omit).
     */
    public static Path adapter(Path dir, String adapterConfig, List<T> tensors, List<T> nonLoraTrainables,
                               ObjectNode modelConfig) throws IOException {
        java.nio.file.Files.createDirectories(dir);
        java.nio.file.Files.writeString(dir.resolve("adapter_config.json"), adapterConfig);
        single(dir.resolve("adapter_model.safetensors"), tensors);
        if (nonLoraTrainables != null) {
            single(dir.resolve("non_lora_trainables.safetensors"), nonLoraTrainables);
        }
        if (modelConfig != null) {
            java.nio.file.Files.writeString(dir.resolve("config.json"), modelConfig.toPrettyString());
        }
        return dir;
    }

    /** Writes one safetensors file at {@code file}. */
    public static void single(Path file, List<T> tensors) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".dir");
        write(tmp, null, tensors);
        java.nio.file.Files.move(tmp.resolve("model.safetensors"), file);
        try (var s = java.nio.file.Files.list(tmp)) {
            for (Path p : s.toList()) {
                java.nio.file.Files.delete(p);
            }
        }
        java.nio.file.Files.delete(tmp);
    }

    /** Writes {@code tensors} as a torch.save zip ({@code .bin}) at {@code file}. */
    public static void bin(Path file, List<T> tensors) throws IOException {
        var w = new dev.ckpt.formats.torch.TorchSaveWriter("archive");
        for (T t : tensors) {
            w.tensor(t.name(), t.dtype(), t.shape(), t.planned().recipe());
        }
        java.nio.file.Files.createDirectories(file.getParent());
        w.write(file);
    }

    /** Decodes one tensor of a checkpoint to f32. */
    public static float[] read(Path checkpoint, String name) throws IOException {
        try (Checkpoint c = Checkpoint.open(checkpoint)) {
            TensorView v = c.view(name);
            float[] out = new float[Math.toIntExact(v.info().elementCount())];
            FloatCodec.decode(v.data(), 0, v.info().dtype(), out, 0, out.length);
            return out;
        }
    }

    /** The stored info of one tensor. */
    public static TensorInfo info(Path checkpoint, String name) throws IOException {
        try (Checkpoint c = Checkpoint.open(checkpoint)) {
            return c.tensor(name).orElseThrow();
        }
    }

    /** The raw bytes of one tensor. */
    public static byte[] bytes(Path checkpoint, String name) throws IOException {
        try (Checkpoint c = Checkpoint.open(checkpoint)) {
            return c.view(name).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }
}

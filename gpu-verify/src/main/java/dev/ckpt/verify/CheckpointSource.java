package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@link WeightSource} over the foundation's {@link Checkpoint}: any format it reads (safetensors,
 * sharded or not; further readers plug into {@code TensorFiles}). Owns and closes the checkpoint.
 */
public final class CheckpointSource implements WeightSource {
    private final Checkpoint checkpoint;

    public CheckpointSource(Checkpoint checkpoint) {
        this.checkpoint = checkpoint;
    }

    /** Opens {@code dirOrFile} with {@link Checkpoint#open}. */
    public static CheckpointSource open(Path dirOrFile) throws IOException {
        return new CheckpointSource(Checkpoint.open(dirOrFile));
    }

    @Override
    public List<String> problems() {
        return checkpoint.problems();
    }

    @Override
    public Path root() {
        return checkpoint.root();
    }

    @Override
    public List<TensorInfo> tensors() {
        return checkpoint.tensors();
    }

    @Override
    public TensorView view(String name) throws IOException {
        return checkpoint.view(name);
    }

    @Override
    public Optional<ObjectNode> config() {
        return checkpoint.config();
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}

package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The read side of a checkpoint as the verifier needs it: ordered tensor metadata, zero-copy
 * views by name, and the checkpoint's {@code config.json}. The foundation's
 * {@code dev.ckpt.formats.Checkpoint} satisfies it through {@link CheckpointSource}. Views stay
 * valid until {@link #close()}.
 */
public interface WeightSource extends AutoCloseable {
    /** Directory (or file) the checkpoint was opened from; side files are looked up beside it. */
    Path root();

    /** Every tensor, in source order. */
    List<TensorInfo> tensors();

    /**
     * Contiguous little-endian bytes of one tensor, valid until {@link #close()}.
     *
     * @throws IllegalArgumentException when the name is not in {@link #tensors()}
     */
    TensorView view(String name) throws IOException;

    /** The parsed {@code config.json}, when the checkpoint has one. */
    Optional<ObjectNode> config();

    /**
     * True when this source carries the LLaVA vision tower itself (under the in-checkpoint prefix
     * {@code model.vision_tower.vision_tower.vision_model.}) and the run must use it: a separate tower
     * ({@code --vision-tower}, a local {@code mm_vision_tower}) then applies to the reference only. A GGUF
     * language model paired with its mmproj says so; ordinary checkpoints do not.
     */
    default boolean ownsVisionTower() {
        return false;
    }

    /** Problems found while opening that did not stop reading; each fails the verification. */
    default List<String> problems() {
        return List.of();
    }

    @Override
    void close();
}

package dev.ckpt.formats;

import java.util.Objects;

/** One tensor of an output plan: what it will be, and how its bytes are computed. */
public record PlannedTensor(TensorInfo info, TensorRecipe recipe) {
    public PlannedTensor {
        Objects.requireNonNull(info, "info");
        Objects.requireNonNull(recipe, "recipe");
    }
}

package dev.ckpt.tools.ops.plan;

import java.util.Objects;

/**
 * What a plan does to one output tensor, for {@code --dry-run} listings and reports.
 *
 * @param tensor output tensor name
 * @param action short verb: {@code add}, {@code subtract}, {@code add-top-rows}, {@code copy},
 *               {@code lora}, {@code replace}, {@code keep}
 * @param source where the values come from, e.g. {@code delta}, {@code adapter 1 (r=8, scale 2.0)}
 */
public record TensorChange(String tensor, String action, String source) {
    public TensorChange {
        Objects.requireNonNull(tensor, "tensor");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(source, "source");
    }
}

package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import java.util.ArrayList;
import java.util.List;

/**
 * A bias-free linear layer (or an embedding table) with LoRA terms applied at run time, unmerged,
 * as PEFT's forward does: the stored tensor {@code W [rows, cols]} is never changed.
 *
 * <ul>
 *   <li>plain term: {@code y += s·(x·Aᵀ)·Bᵀ}; fan_in_fan_out / embedding factors transposed:
 *       {@code y += s·(x·B)·A};</li>
 *   <li>DoRA: {@code V = W_prev + ΔW}, {@code c = m / ‖V‖} per row (per column when transposed), the
 *       norm computed from the weights at load time as PEFT computes its weight norm at run time;
 *       then {@code y = c ⊙ (y_prev + term)} for rows, {@code y = y_prev(c ⊙ x) + term(c ⊙ x)} for columns;</li>
 *   <li>embedding lookup: {@code e = E[id] + s·A[:, id]ᵀ·Bᵀ}, DoRA: {@code e ⊙ c}.</li>
 * </ul>
 * Several terms compose in order, as merging them one after the other would.
 */
final class LoraLinear {
    private record Step(LoraAdapter.Pair pair, NDArray factor) {
    }

    private final NDArray weight;
    private final List<Step> steps;

    private LoraLinear(NDArray weight, List<Step> steps) {
        this.weight = weight;
        this.steps = steps;
    }

    /** {@code weight} (owned by the caller's store) with {@code pairs} in order; DoRA factors computed now. */
    static LoraLinear of(NDArray weight, List<LoraAdapter.Pair> pairs) {
        List<Step> steps = new ArrayList<>();
        if (pairs.stream().noneMatch(p -> p.magnitude() != null)) {
            pairs.forEach(p -> steps.add(new Step(p, null)));
            return new LoraLinear(weight, List.copyOf(steps));
        }
        try (NDScope scope = new NDScope()) { // frees the F32 working copies of W
            scope.suppressNotUsedWarning();
            NDArray eff = weight.toType(DataType.FLOAT32, true);
            for (LoraAdapter.Pair p : pairs) {
                NDArray ba = p.b().toType(DataType.FLOAT32, false).matMul(p.a().toType(DataType.FLOAT32, false)).mul(p.scale());
                NDArray v = eff.add(p.transposed() ? ba.transpose() : ba);
                NDArray factor = null;
                if (p.magnitude() != null) {
                    NDArray c = p.magnitude().toType(DataType.FLOAT32, false).div(v.square().sum(new int[] {p.transposed() ? 0 : 1}).sqrt());
                    v = v.mul(p.transposed() ? c.reshape(1, -1) : c.reshape(-1, 1));
                    factor = c.toType(weight.getDataType(), true);
                    NDScope.unregister(factor);
                }
                eff = v;
                steps.add(new Step(p, factor));
            }
        }
        return new LoraLinear(weight, List.copyOf(steps));
    }

    /** The stored tensor. */
    NDArray weight() {
        return weight;
    }

    /** {@code x [T, cols]} to {@code [T, rows]}. */
    NDArray apply(NDArray x) {
        return apply(x, steps.size());
    }

    private NDArray apply(NDArray x, int k) {
        if (k == 0) {
            return Linear.linear(x, weight).singletonOrThrow();
        }
        Step s = steps.get(k - 1);
        LoraAdapter.Pair p = s.pair();
        NDArray in = s.factor() != null && p.transposed() ? x.mul(s.factor()) : x;
        NDArray term = p.transposed() ? in.matMul(p.b()).matMul(p.a())
                : Linear.linear(Linear.linear(in, p.a()).singletonOrThrow(), p.b()).singletonOrThrow();
        NDArray y = apply(in, k - 1).add(term.mul(p.scale()));
        return s.factor() != null && !p.transposed() ? y.mul(s.factor()) : y;
    }

    /** Embedding rows {@code [T, cols]} for token ids {@code idx}, with every (embedding) term applied. */
    NDArray lookup(NDArray idx) {
        NDArray e = Embedding.embedding(idx, weight, SparseFormat.DENSE).singletonOrThrow();
        for (Step s : steps) {
            LoraAdapter.Pair p = s.pair();
            NDArray ar = Embedding.embedding(idx, p.a().transpose(), SparseFormat.DENSE).singletonOrThrow();
            e = e.add(Linear.linear(ar, p.b()).singletonOrThrow().mul(p.scale()));
            if (s.factor() != null) {
                e = e.mul(s.factor());
            }
        }
        return e;
    }
}

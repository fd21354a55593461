package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * LLaVA's multimodal projector ({@code llava/model/multimodal_projector/builder.py}):
 * {@code linear} ({@code model.mm_projector.{weight,bias}}) or {@code mlpNx_gelu}
 * ({@code model.mm_projector.{0,2,4..}.{weight,bias}} with exact-erf GELU between the linears) or
 * {@code identity}.
 */
public final class Projector {
    private static final Pattern MLP = Pattern.compile("^mlp(\\d+)x_gelu$");
    private final List<NDArray[]> linears = new ArrayList<>();

    /**
     * @param type {@code mm_projector_type} from config.json ({@code linear} when absent)
     * @param visionHidden projector input width ({@code mm_hidden_size})
     * @param hidden language model width
     */
    public Projector(String type, WeightStore store, long visionHidden, long hidden) throws IOException {
        String p = "model.mm_projector.";
        Matcher m = MLP.matcher(type);
        if (type.equals("identity")) {
            if (visionHidden != hidden) {
                throw new FormatException(null, Kind.MISMATCH, "identity projector needs mm_hidden_size " + visionHidden
                        + " to equal hidden_size " + hidden);
            }
        } else if (type.equals("linear")) {
            linears.add(new NDArray[] {store.load(p + "weight", hidden, visionHidden), store.load(p + "bias", hidden)});
        } else if (m.matches()) {
            int depth = Integer.parseInt(m.group(1));
            for (int i = 0; i < depth; i++) {
                long in = i == 0 ? visionHidden : hidden;
                linears.add(new NDArray[] {store.load(p + (2 * i) + ".weight", hidden, in), store.load(p + (2 * i) + ".bias", hidden)});
            }
        } else {
            throw new FormatException(null, Kind.UNSUPPORTED, "mm_projector_type '" + type + "' is not supported (linear, mlpNx_gelu, identity)");
        }
    }

    /** {@code [patches, visionHidden]} to {@code [patches, hidden]}; the result is owned by the caller. */
    public NDArray project(NDArray features) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray x = features;
            for (int i = 0; i < linears.size(); i++) {
                if (i > 0) {
                    x = Activation.gelu(x);
                }
                x = Linear.linear(x, linears.get(i)[0], linears.get(i)[1]).singletonOrThrow();
            }
            NDArray out = x == features ? x.duplicate() : x;
            NDScope.unregister(out);
            return out;
        }
    }
}

package dev.ckpt.tools.ops.lora;

import dev.ckpt.formats.Checkpoint;
import dev.ckpt.tools.ops.kernel.LowRankUpdate;
import dev.ckpt.tools.ops.kernel.LowRankUpdate.NormAxis;
import dev.ckpt.tools.ops.kernel.Rows;
import dev.ckpt.tools.ops.kernel.ViewRows;
import java.io.IOException;

/**
 * One adapter's planned update of one output tensor, described by tensor names only; the factors
 * are read when the output tensor is written ({@link #resolve()}).
 *
 * @param kind      how the factors map onto the stored tensor
 * @param source    the adapter file holding the factors
 * @param first     lora_A (Linear, conv, fan_in_fan_out), lora_embedding_A, or lora_B.bias (BIAS)
 * @param second    lora_B, lora_embedding_B; null for BIAS
 * @param magnitude DoRA magnitude key, or null
 * @param rank      r
 * @param scale     PEFT scaling times the adapter weight
 * @param label     "adapter 1 (name)" for listings
 */
public record LoraTerm(Kind kind, Checkpoint source, String first, String second, String magnitude, int rank,
                       float scale, String label) {

    /** Layout of the update relative to the stored base tensor. */
    public enum Kind {
        /** W [out, in] += s·B·A (also conv, flattened to [out, in·kh·kw]). */
        LINEAR,
        /** W stored [in, out] (fan_in_fan_out) += s·(B·A)ᵀ; DoRA norms run over columns. */
        LINEAR_TRANSPOSED,
        /** E [V, D] += s·(B_e·A_e)ᵀ; DoRA norms per embedding dimension (columns). */
        EMBEDDING,
        /** bias [out] += s·lora_B.bias. */
        BIAS
    }

    /** Reads the factors (rank × cols of the right factor is held in memory) into a kernel update. */
    public LowRankUpdate resolve() throws IOException {
        float[] mag = magnitude == null ? null : new ViewRows(source.view(magnitude)).readAll();
        return switch (kind) {
            case LINEAR -> new LowRankUpdate(new ViewRows(source.view(second)),
                    new ViewRows(source.view(first)).readAll(), rank, scale, mag, NormAxis.ROW);
            case LINEAR_TRANSPOSED, EMBEDDING -> new LowRankUpdate(Rows.transposed(new ViewRows(source.view(first))),
                    transpose(new ViewRows(source.view(second))), rank, scale, mag, NormAxis.COLUMN);
            case BIAS -> new LowRankUpdate(new ViewRows(source.view(first)), new float[] {1f}, 1, scale, null,
                    NormAxis.ROW);
        };
    }

    /** The whole of a small [a, b] factor, transposed to [b, a]. */
    private static float[] transpose(Rows m) throws IOException {
        float[] x = m.readAll();
        int a = Math.toIntExact(m.rows());
        int b = m.cols();
        float[] t = new float[x.length];
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                t[j * a + i] = x[i * b + j];
            }
        }
        return t;
    }
}

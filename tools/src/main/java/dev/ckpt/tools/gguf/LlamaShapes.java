package dev.ckpt.tools.gguf;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a Llama checkpoint's tensor shapes against the hyper-parameters written into its GGUF header: llama.cpp
 * refuses to load a file whose tensors contradict {@code llama.block_count}, the head counts or the feed-forward
 * length, so an export must refuse to write one (exit 3) instead of leaving a file that only fails later.
 */
final class LlamaShapes {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(.+)");

    private LlamaShapes() {
    }

    /**
     * @param shapes GGUF tensor name to its Hugging Face shape (outermost first), for every tensor of the export
     * @throws FormatException (MISMATCH) naming the first tensor whose shape or block index the config contradicts
     */
    static void check(Path config, LlamaMetadata.Dims d, Map<String, long[]> shapes) throws FormatException {
        long q = (long) d.heads() * d.headDim();
        long kv = (long) d.kvHeads() * d.headDim();
        TreeSet<Integer> blocks = new TreeSet<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            Matcher m = BLOCK.matcher(name);
            long[] want;
            if (m.matches()) {
                int block = Integer.parseInt(m.group(1));
                if (block >= d.layers()) {
                    throw mismatch(config, "tensor " + name + " belongs to block " + block + " but num_hidden_layers is "
                            + d.layers());
                }
                blocks.add(block);
                want = switch (m.group(2)) {
                    case "attn_norm.weight", "ffn_norm.weight" -> new long[] {d.hidden()};
                    case "attn_q.weight" -> new long[] {q, d.hidden()};
                    case "attn_k.weight", "attn_v.weight" -> new long[] {kv, d.hidden()};
                    case "attn_q.bias" -> new long[] {q};
                    case "attn_k.bias", "attn_v.bias" -> new long[] {kv};
                    case "attn_output.weight" -> new long[] {d.hidden(), q};
                    case "ffn_gate.weight", "ffn_up.weight" -> new long[] {d.intermediate(), d.hidden()};
                    case "ffn_down.weight" -> new long[] {d.hidden(), d.intermediate()};
                    default -> null;
                };
            } else {
                want = switch (name) {
                    case "output_norm.weight" -> new long[] {d.hidden()};
                    case "token_embd.weight", "output.weight" -> new long[] {e.getValue().length == 2 ? e.getValue()[0] : -1,
                            d.hidden()};
                    default -> null;
                };
            }
            if (want != null && !Arrays.equals(want, e.getValue())) {
                throw mismatch(config, "tensor " + name + " has shape " + Arrays.toString(e.getValue())
                        + " but config.json implies " + Arrays.toString(want).replace("-1", "*"));
            }
        }
        if (blocks.size() != d.layers()) {
            throw mismatch(config, "num_hidden_layers is " + d.layers() + " but the checkpoint has tensors for "
                    + blocks.size() + " block(s)");
        }
    }

    private static FormatException mismatch(Path config, String message) {
        return new FormatException(config, Kind.MISMATCH, message);
    }
}

package dev.ckpt.tools.ops.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compares the tokenizers of two checkpoints from their {@code tokenizer.json} (vocab and added
 * tokens): the ids both define must name the same tokens, and a tokenizer must not have more tokens
 * than its embedding has rows. Without {@code tokenizer.json} on both sides only
 * {@code tokenizer.model} byte equality is reported (as a warning).
 */
public final class TokenizerCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_TOKENIZER_BYTES = 64L << 20;

    private TokenizerCheck() {
    }

    /** Token strings by id, from a {@code tokenizer.json}. */
    public record Vocab(Map<Integer, String> byId, int size) {
    }

    /** Reads the vocabulary of {@code tokenizer.json} among {@code sideFiles}, if present and sane. */
    public static Optional<Vocab> read(List<Path> sideFiles, Diagnostics d, String role) {
        Optional<Path> file = find(sideFiles, "tokenizer.json");
        if (file.isEmpty()) {
            return Optional.empty();
        }
        try {
            if (Files.size(file.get()) > MAX_TOKENIZER_BYTES) {
                d.warning(role + " tokenizer.json is larger than 64 MiB; tokenizer not compared");
                return Optional.empty();
            }
            JsonNode root = JSON.readTree(file.get().toFile());
            Map<Integer, String> byId = new HashMap<>();
            JsonNode vocab = root.path("model").path("vocab");
            if (vocab.isObject()) {
                for (var e : vocab.properties()) {
                    byId.put(e.getValue().asInt(), e.getKey());
                }
            } else if (vocab.isArray()) {
                int i = 0;
                for (JsonNode entry : vocab) {
                    byId.put(i++, entry.isArray() ? entry.path(0).asText() : entry.asText());
                }
            }
            for (JsonNode t : root.path("added_tokens")) {
                byId.put(t.path("id").asInt(), t.path("content").asText());
            }
            int size = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
            return Optional.of(new Vocab(byId, size));
        } catch (IOException e) {
            d.warning(role + " tokenizer.json could not be read (" + e.getMessage() + "); tokenizer not compared");
            return Optional.empty();
        }
    }

    /**
     * Checks that {@code other} extends {@code base}: every id below both sizes names the same token.
     * Reports the first differing id as an error.
     */
    public static void compare(List<Path> baseFiles, List<Path> otherFiles, String otherRole, Diagnostics d) {
        Optional<Vocab> b = read(baseFiles, d, "base");
        Optional<Vocab> o = read(otherFiles, d, otherRole);
        if (b.isPresent() && o.isPresent()) {
            int n = Math.min(b.get().size(), o.get().size());
            for (int id = 0; id < n; id++) {
                String tb = b.get().byId().get(id);
                String to = o.get().byId().get(id);
                if (tb != null && to != null && !tb.equals(to)) {
                    d.error("tokenizer mismatch: token id " + id + " is '" + tb + "' in the base but '" + to + "' in the "
                            + otherRole + "; the base is from a different model family (or the " + otherRole
                            + " was made from another base)");
                    return;
                }
            }
            return;
        }
        Optional<Path> mb = find(baseFiles, "tokenizer.model");
        Optional<Path> mo = find(otherFiles, "tokenizer.model");
        if (mb.isPresent() && mo.isPresent()) {
            try {
                if (Files.mismatch(mb.get(), mo.get()) != -1) {
                    d.warning("tokenizer.model differs between the base and the " + otherRole
                            + "; the output takes the " + otherRole + "'s");
                }
            } catch (IOException e) {
                d.warning("tokenizer.model could not be compared: " + e.getMessage());
            }
        }
    }

    /** Reports an error when the tokenizer has more tokens than the embedding has rows. */
    public static void checkFits(Optional<Vocab> vocab, long embeddingRows, String role, Diagnostics d) {
        if (vocab.isPresent() && vocab.get().size() > embeddingRows) {
            d.error("tokenizer mismatch: the " + role + "'s tokenizer has " + vocab.get().size()
                    + " tokens but its embed_tokens has only " + embeddingRows + " rows");
        }
    }

    private static Optional<Path> find(List<Path> files, String name) {
        return files.stream().filter(p -> p.getFileName().toString().equals(name)).findFirst();
    }
}

package dev.ckpt.verify;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Text to token ids and back, as the checkpoint's own tokenizer does it. Implementations:
 * {@link HfTokenizer} ({@code tokenizer.json} through DJL's Hugging Face tokenizers) and
 * {@link SentencePieceTokenizer} ({@code tokenizer.model}, a reader of our own).
 */
public interface TextTokenizer extends AutoCloseable {
    /** Token ids of {@code text}, with the beginning-of-sequence token first when {@code addBos}. */
    int[] encode(String text, boolean addBos);

    /** Text of {@code ids}, special tokens skipped. */
    String decode(int[] ids);

    /** Short name for reports ("tokenizer.json", "tokenizer.model"). */
    String kind();

    @Override
    void close();

    /**
     * The tokenizer shipped beside a checkpoint: {@code tokenizer.json} first (the fast
     * tokenizer), else {@code tokenizer.model}.
     *
     * @throws FormatException when the directory has neither (pass --prompt-ids instead)
     */
    static TextTokenizer open(Path dir) throws IOException {
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return HfTokenizer.open(json);
        }
        Path model = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(model)) {
            return SentencePieceTokenizer.open(model);
        }
        throw new FormatException(dir, Kind.MISSING_TENSOR, "no tokenizer.json or tokenizer.model beside the weights; pass --prompt-ids");
    }
}

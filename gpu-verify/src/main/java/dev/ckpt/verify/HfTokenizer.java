package dev.ckpt.verify;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** {@code tokenizer.json} through DJL's bundled Hugging Face tokenizers library (truncation off, no padding). */
public final class HfTokenizer implements TextTokenizer {
    private final HuggingFaceTokenizer tokenizer;

    private HfTokenizer(HuggingFaceTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** @throws FormatException when the file is not a tokenizer the library accepts */
    public static HfTokenizer open(Path tokenizerJson) throws IOException {
        try {
            return new HfTokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("truncation", "false", "padding", "false", "addSpecialTokens", "true")));
        } catch (RuntimeException e) {
            throw new FormatException(tokenizerJson, Kind.INVALID_JSON, "tokenizer.json not readable: " + e.getMessage(), e);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        Encoding enc = tokenizer.encode(text, addBos, false);
        long[] ids = enc.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    @Override
    public String kind() {
        return "tokenizer.json";
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}

package dev.ckpt.tools.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing (Jazzer) of ckpt's SentencePiece protobuf reader ({@code tokenizer.model}, read by
 * {@code convert --to gguf}): any bytes either give a vocabulary or a {@link FormatException}. Replays {@code
 * SentencePieceFuzzTestInputs/} in a normal test run; {@code scripts/fuzz.sh} fuzzes.
 */
class SentencePieceFuzzTest {
    private static final Path FILE = FuzzTempFile.create(".model");

    @FuzzTest(maxDuration = "60s")
    void readTokenizerModel(byte[] data) throws IOException {
        Files.write(FILE, data);
        int vocab = 64;
        try {
            VocabMetadata.readSentencePiece(FILE, new String[vocab], new float[vocab], new int[vocab]);
        } catch (FormatException expected) {
            // the one acceptable way to refuse a tokenizer.model
        }
    }
}

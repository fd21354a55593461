package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.formats.FormatException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SentencePiece reader and BPE encoder against DJL's Hugging Face tokenizers (Rust) on the same
 * vocabulary: a {@code tokenizer.model} whose merged-piece scores follow the merge ranks of a
 * {@code tokenizer.json}, as LLaMA's converted tokenizers do.
 */
class TokenizerTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"The capital of France is", "it is italic", "Hello, World?!", "  two  spaces ",
        "\u00fcn\u00efc\u00f6d\u00e9 \u2603", "a\nb", ""})
    void sentencePieceEncodesLikeHuggingFaceTokenizers(String text) throws Exception {
        TinyModels.writeTokenizer(tmp);
        Files.write(tmp.resolve("tokenizer.model"), modelProto());
        try (TextTokenizer hf = HfTokenizer.open(tmp.resolve("tokenizer.json"));
             TextTokenizer sp = SentencePieceTokenizer.open(tmp.resolve("tokenizer.model"))) {
            assertThat(sp.encode(text, true)).as(text).containsExactly(hf.encode(text, true));
            assertThat(sp.encode(text, false)).containsExactly(hf.encode(text, false));
            assertThat(sp.decode(sp.encode(text, true))).isEqualTo(hf.decode(hf.encode(text, true)));
        }
    }

    @Test
    void mergesFollowScores() throws Exception {
        Files.write(tmp.resolve("tokenizer.model"), modelProto());
        try (TextTokenizer sp = SentencePieceTokenizer.open(tmp.resolve("tokenizer.model"))) {
            List<String> vocab = TinyModels.vocab();
            int[] ids = sp.encode("the France", true);
            assertThat(ids).containsExactly(1, vocab.indexOf("\u2581the"), vocab.indexOf("\u2581France"));
            assertThat(sp.decode(ids)).isEqualTo("the France");
        }
    }

    @Test
    void directoryPrefersTokenizerJsonAndRejectsGarbage() throws Exception {
        TinyModels.writeTokenizer(tmp);
        try (TextTokenizer t = TextTokenizer.open(tmp)) {
            assertThat(t.kind()).isEqualTo("tokenizer.json");
        }
        Files.writeString(tmp.resolve("bad.model"), "\u00ff\u00ff\u00ff\u00ff");
        assertThatThrownBy(() -> SentencePieceTokenizer.open(tmp.resolve("bad.model"))).isInstanceOf(FormatException.class);
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> TextTokenizer.open(empty)).isInstanceOf(FormatException.class).hasMessageContaining("--prompt-ids");
    }

    /** A SentencePiece ModelProto for the fixture vocabulary (BPE, byte fallback, dummy prefix). */
    static byte[] modelProto() {
        List<String> vocab = TinyModels.vocab();
        List<String> merged = TinyModels.merges().stream().map(m -> m.replace(" ", "")).toList();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < vocab.size(); i++) {
            String p = vocab.get(i);
            int type = i == 0 ? SentencePieceTokenizer.UNKNOWN : i < 3 ? SentencePieceTokenizer.CONTROL
                    : i < 259 ? SentencePieceTokenizer.BYTE : SentencePieceTokenizer.NORMAL;
            float score = merged.contains(p) ? -merged.indexOf(p) : i < 259 ? 0 : -1000 - i;
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            bytesField(piece, 1, p.getBytes(StandardCharsets.UTF_8));
            piece.write(2 << 3 | 5);
            piece.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(score).array());
            varintField(piece, 3, type);
            bytesField(out, 1, piece.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        varintField(trainer, 3, 2);
        varintField(trainer, 35, 1);
        varintField(trainer, 40, 0);
        varintField(trainer, 41, 1);
        bytesField(out, 2, trainer.toByteArray());
        ByteArrayOutputStream normalizer = new ByteArrayOutputStream();
        varintField(normalizer, 3, 1);
        bytesField(out, 3, normalizer.toByteArray());
        return out.toByteArray();
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static void varintField(ByteArrayOutputStream out, int field, long v) {
        varint(out, (long) field << 3);
        varint(out, v);
    }

    private static void bytesField(ByteArrayOutputStream out, int field, byte[] b) {
        varint(out, (long) field << 3 | 2);
        varint(out, b.length);
        out.writeBytes(b);
    }
}

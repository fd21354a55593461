package dev.ckpt.tools.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.UntrustedText;
import dev.ckpt.formats.gguf.GgufValue;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code tokenizer.ggml.*} metadata of a SentencePiece-style ("llama") vocabulary, read from
 * {@code tokenizer.model} (SentencePiece protobuf: pieces, scores, types) when present, else from a
 * Hugging Face {@code tokenizer.json} with a BPE model. For tokenizer.json the score of a token made by
 * merge k is {@code -(k+1)} and 0 otherwise, so llama.cpp's score-driven merging follows the BPE merge
 * ranks; byte tokens {@code <0xXX>} get type BYTE, special added tokens CONTROL, the unknown token UNKNOWN.
 * Ids the files do not name up to {@code vocabSize} become {@code [PAD<id>]} (UNUSED).
 */
public final class VocabMetadata {
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;
    private static final ObjectMapper JSON = new ObjectMapper();

    private VocabMetadata() {
    }

    /** Reads the vocabulary files of {@code dir} into GGUF keys (insertion-ordered). */
    public static Map<String, GgufValue> read(Path dir, int vocabSize) throws IOException {
        String[] tokens = new String[vocabSize];
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        Path spm = dir.resolve("tokenizer.model");
        Path tj = dir.resolve("tokenizer.json");
        Map<String, Integer> ids = new HashMap<>();
        if (Files.isRegularFile(spm)) {
            readSentencePiece(spm, tokens, scores, types);
        } else if (Files.isRegularFile(tj)) {
            readTokenizerJson(tj, tokens, scores, types);
        } else {
            throw new FormatException(dir, Kind.MISSING_TENSOR, "no tokenizer.model or tokenizer.json: llama.cpp needs a vocabulary");
        }
        for (int i = 0; i < vocabSize; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]";
                types[i] = UNUSED;
            }
            ids.putIfAbsent(tokens[i], i);
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < vocabSize; i++) {
            if (!seen.add(tokens[i])) {
                throw new FormatException(dir, Kind.INVALID_VALUE, "token " + tokens[i] + " appears twice in the vocabulary (llama.cpp aborts on that)");
            }
        }
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        kv.put("tokenizer.ggml.model", GgufValue.of("llama"));
        kv.put("tokenizer.ggml.pre", GgufValue.of("default"));
        kv.put("tokenizer.ggml.tokens", GgufValue.strings(Arrays.asList(tokens)));
        kv.put("tokenizer.ggml.scores", GgufValue.floats(scores));
        kv.put("tokenizer.ggml.token_type", GgufValue.ints(types));
        JsonNode cfg = readJson(dir.resolve("tokenizer_config.json"));
        JsonNode special = readJson(dir.resolve("special_tokens_map.json"));
        putId(kv, "tokenizer.ggml.bos_token_id", tokenName(cfg, special, "bos_token"), ids);
        putId(kv, "tokenizer.ggml.eos_token_id", tokenName(cfg, special, "eos_token"), ids);
        putId(kv, "tokenizer.ggml.unknown_token_id", tokenName(cfg, special, "unk_token"), ids);
        putId(kv, "tokenizer.ggml.padding_token_id", tokenName(cfg, special, "pad_token"), ids);
        if (cfg != null && cfg.has("add_bos_token")) {
            kv.put("tokenizer.ggml.add_bos_token", new GgufValue.Bool(cfg.get("add_bos_token").asBoolean()));
        }
        if (cfg != null && cfg.has("add_eos_token")) {
            kv.put("tokenizer.ggml.add_eos_token", new GgufValue.Bool(cfg.get("add_eos_token").asBoolean()));
        }
        if (cfg != null && cfg.path("chat_template").isTextual()) {
            kv.put("tokenizer.chat_template", GgufValue.of(cfg.get("chat_template").asText()));
        }
        return kv;
    }

    private static void putId(Map<String, GgufValue> kv, String key, String token, Map<String, Integer> ids) {
        if (token != null && ids.containsKey(token)) {
            kv.put(key, GgufValue.u32(ids.get(token)));
        }
    }

    private static String tokenName(JsonNode cfg, JsonNode special, String key) {
        for (JsonNode n : new JsonNode[] {cfg, special}) {
            if (n == null) {
                continue;
            }
            JsonNode v = n.get(key);
            if (v != null && v.isTextual()) {
                return v.asText();
            }
            if (v != null && v.path("content").isTextual()) {
                return v.path("content").asText();
            }
        }
        return null;
    }

    private static JsonNode readJson(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            return null;
        }
        try {
            return JSON.readTree(p.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(p, Kind.INVALID_JSON, "is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static void readTokenizerJson(Path p, String[] tokens, float[] scores, int[] types) throws IOException {
        JsonNode root = readJson(p);
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw new FormatException(p, Kind.UNSUPPORTED, "tokenizer model " + model.path("type").asText()
                    + " is not supported for GGUF export (expected BPE with byte_fallback, or a tokenizer.model)");
        }
        String unk = model.path("unk_token").asText(null);
        Map<String, Integer> rank = new HashMap<>();
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            merges.add(m.isArray() ? m.get(0).asText() + m.get(1).asText() : m.asText().replaceFirst(" ", ""));
        }
        for (int k = 0; k < merges.size(); k++) {
            rank.putIfAbsent(merges.get(k), k);
        }
        JsonNode vocab = model.path("vocab");
        if (!vocab.isObject() || vocab.isEmpty()) {
            throw new FormatException(p, Kind.INVALID_VALUE, "model.vocab must be a non-empty object {token: id}: without it"
                    + " the GGUF would have no vocabulary");
        }
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber()) {
                // asInt() would read "x" as id 0 and silently replace that token
                throw new FormatException(p, Kind.INVALID_VALUE, "model.vocab gives token " + printable(e.getKey())
                        + " the id " + e.getValue() + ", not an integer");
            }
            int id = e.getValue().asInt();
            if (id < 0 || id >= tokens.length) {
                continue; // as llama.cpp's converter: ids outside [0, vocab_size) are not part of the model's vocabulary
            }
            String t = e.getKey();
            tokens[id] = t;
            Integer r = rank.get(t);
            scores[id] = r == null ? 0f : -(r + 1);
            types[id] = t.matches("<0x[0-9A-F]{2}>") ? BYTE : t.equals(unk) ? UNKNOWN : NORMAL;
        }
        for (JsonNode a : root.path("added_tokens")) {
            if (!a.path("id").isIntegralNumber() || !a.path("id").canConvertToInt()) {
                throw new FormatException(p, Kind.INVALID_VALUE, "added_tokens entry " + printable(a.path("content").asText())
                        + " has the id " + a.path("id") + ", not an integer");
            }
            int id = a.path("id").asInt();
            if (id < 0 || id >= tokens.length) {
                continue;
            }
            String t = a.path("content").asText();
            tokens[id] = t;
            types[id] = t.equals(unk) ? UNKNOWN : a.path("special").asBoolean() ? CONTROL : USER_DEFINED;
        }
    }

    private static String printable(String token) {
        return "'" + UntrustedText.oneLine(token, 40) + "'";
    }

    /** Minimal protobuf reader for SentencePiece's ModelProto: field 1 = pieces {1 piece, 2 score, 3 type}. */
    static void readSentencePiece(Path p, String[] tokens, float[] scores, int[] types) throws IOException {
        byte[] b = Files.readAllBytes(p);
        Proto in = new Proto(p, b, 0, b.length);
        int id = 0;
        while (in.more()) {
            long key = in.varint();
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                long len = in.varint();
                int start = in.pos;
                in.skipBytes(len);
                Proto piece = new Proto(p, b, start, in.pos);
                String text = "";
                float score = 0;
                int type = NORMAL;
                while (piece.more()) {
                    long k = piece.varint();
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (f == 1 && w == 2) {
                        long l = piece.varint();
                        int textStart = piece.pos;
                        piece.skipBytes(l); // checks the length against the piece before any slicing
                        text = new String(b, textStart, piece.pos - textStart, StandardCharsets.UTF_8);
                    } else if (f == 2 && w == 5) {
                        score = Float.intBitsToFloat(piece.fixed32());
                    } else if (f == 3 && w == 0) {
                        type = (int) piece.varint();
                    } else {
                        piece.skip(w);
                    }
                }
                if (id < tokens.length) {
                    tokens[id] = text;
                    scores[id] = score;
                    types[id] = type;
                }
                id++;
            } else {
                in.skip(wire);
            }
        }
    }

    private static final class Proto {
        final Path path;
        final byte[] b;
        int pos;
        final int end;

        Proto(Path path, byte[] b, int pos, int end) throws FormatException {
            this.path = path;
            this.b = b;
            this.pos = pos;
            this.end = end;
            if (pos < 0 || end > b.length || pos > end) {
                throw bad();
            }
        }

        FormatException bad() {
            return new FormatException(path, Kind.INVALID_HEADER, "is not a valid SentencePiece model (truncated protobuf)");
        }

        boolean more() {
            return pos < end;
        }

        long varint() throws FormatException {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw bad();
                }
                int c = b[pos++] & 0xFF;
                v |= (long) (c & 0x7F) << shift;
                if ((c & 0x80) == 0) {
                    return v;
                }
            }
            throw bad();
        }

        int fixed32() throws FormatException {
            if (pos + 4 > end) {
                throw bad();
            }
            int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
            pos += 4;
            return v;
        }

        /** Skips {@code n} bytes (a length read from the file: any long) after checking they lie inside this message. */
        void skipBytes(long n) throws FormatException {
            if (n < 0 || n > end - pos) { // not pos + n > end: that overflows for lengths near 2^31
                throw bad();
            }
            pos += (int) n;
        }

        void skip(int wire) throws FormatException {
            switch (wire) {
                case 0 -> varint();
                case 1 -> skipBytes(8);
                case 2 -> skipBytes(varint());
                case 5 -> skipBytes(4);
                default -> throw bad();
            }
        }
    }
}

package dev.ckpt.formats.synthetic;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.SideFile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small but complete Llama-style tokenizer in the Hugging Face {@code tokenizers} format:
 * BPE with byte fallback ({@code <0x00>}..{@code <0xFF>}), {@code <unk>}/{@code <s>}/{@code </s>} as ids
 * 0/1/2, the "▁" space marker, the letters and a few merges. Any text encodes (unknown characters fall
 * back to bytes) and decodes back.
 */
public final class SyntheticTokenizer {
    /** Space marker of SentencePiece-style vocabularies (U+2581). */
    public static final String SPACE = "\u2581";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String[][] MERGES = {
        {SPACE, "t"}, {"h", "e"}, {SPACE + "t", "he"}, {"i", "n"}, {SPACE, "a"}, {"e", "r"}, {"o", "n"},
        {"r", "e"}, {"a", "t"}, {"e", "n"}, {SPACE, "h"}, {SPACE, "s"}, {"l", "l"}, {SPACE, "w"}, {"o", "r"},
        {"i", "s"}, {SPACE, "i"}, {"a", "n"}, {SPACE, "o"}, {SPACE, "c"}, {SPACE + "h", "e"}, {"e", "ll"},
        {SPACE + "h", "ell"}, {SPACE + "hell", "o"}, {SPACE + "w", "or"}, {"l", "d"}, {SPACE + "wor", "ld"},
    };
    private static final Map<String, Integer> VOCAB = buildVocab();

    private SyntheticTokenizer() {
    }

    private static Map<String, Integer> buildVocab() {
        Map<String, Integer> v = new LinkedHashMap<>();
        v.put("<unk>", 0);
        v.put("<s>", 1);
        v.put("</s>", 2);
        for (int b = 0; b < 256; b++) {
            v.put(String.format("<0x%02X>", b), v.size());
        }
        v.put(SPACE, v.size());
        for (char c = 'a'; c <= 'z'; c++) {
            v.put(String.valueOf(c), v.size());
        }
        for (char c : ".,!?'".toCharArray()) {
            v.put(String.valueOf(c), v.size());
        }
        for (String[] m : MERGES) {
            v.putIfAbsent(m[0] + m[1], v.size());
        }
        return java.util.Collections.unmodifiableMap(v);
    }

    /** Number of tokens in the vocabulary (ids 0 .. vocabSize-1). */
    public static int vocabSize() {
        return VOCAB.size();
    }

    /** token -> id, in id order. */
    public static Map<String, Integer> vocab() {
        return VOCAB;
    }

    /** tokenizer.json, tokenizer_config.json and special_tokens_map.json. */
    public static List<SideFile> files(int maxLength) {
        return List.of(
                SideFile.Bytes.utf8("tokenizer.json", pretty(tokenizerJson())),
                SideFile.Bytes.utf8("tokenizer_config.json", pretty(tokenizerConfig(maxLength))),
                SideFile.Bytes.utf8("special_tokens_map.json", pretty(specialTokensMap())));
    }

    static String pretty(ObjectNode n) {
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The tokenizer.json tree. */
    public static ObjectNode tokenizerJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String s : List.of("<unk>", "<s>", "</s>")) {
            added.addObject().put("id", VOCAB.get(s)).put("content", s).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode norms = norm.putArray("normalizers");
        norms.addObject().put("type", "Prepend").put("prepend", SPACE);
        ObjectNode replace = norms.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", " ");
        replace.put("content", SPACE);
        root.putNull("pre_tokenizer");
        root.set("post_processor", postProcessor());
        ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
        ArrayNode decs = dec.putArray("decoders");
        ObjectNode drep = decs.addObject().put("type", "Replace");
        drep.putObject("pattern").put("String", SPACE);
        drep.put("content", " ");
        decs.addObject().put("type", "ByteFallback");
        decs.addObject().put("type", "Fuse");
        decs.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        VOCAB.forEach(vocab::put);
        ArrayNode merges = model.putArray("merges");
        for (String[] m : MERGES) {
            merges.add(m[0] + " " + m[1]);
        }
        return root;
    }

    private static ObjectNode postProcessor() {
        ObjectNode pp = JSON.createObjectNode().put("type", "TemplateProcessing");
        ArrayNode single = pp.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = pp.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 1);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode bos = pp.putObject("special_tokens").putObject("<s>").put("id", "<s>");
        bos.putArray("ids").add(1);
        bos.putArray("tokens").add("<s>");
        return pp;
    }

    /** tokenizer_config.json as transformers writes it for Llama. */
    public static ObjectNode tokenizerConfig(int maxLength) {
        ObjectNode c = JSON.createObjectNode();
        c.put("add_bos_token", true).put("add_eos_token", false);
        ObjectNode dec = c.putObject("added_tokens_decoder");
        for (String s : List.of("<unk>", "<s>", "</s>")) {
            dec.putObject(String.valueOf(VOCAB.get(s))).put("content", s).put("lstrip", false).put("normalized", false)
                    .put("rstrip", false).put("single_word", false).put("special", true);
        }
        c.put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>").putNull("pad_token");
        c.put("clean_up_tokenization_spaces", false).put("legacy", true).put("model_max_length", maxLength);
        c.put("padding_side", "right").put("tokenizer_class", "LlamaTokenizerFast");
        return c;
    }

    /** special_tokens_map.json. */
    public static ObjectNode specialTokensMap() {
        return JSON.createObjectNode().put("bos_token", "<s>").put("eos_token", "</s>").put("unk_token", "<unk>");
    }
}

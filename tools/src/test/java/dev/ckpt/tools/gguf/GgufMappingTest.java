package dev.ckpt.tools.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ckpt.formats.gguf.GgmlType;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.tools.quant.QuantMix;
import dev.ckpt.tools.quant.QuantType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufMappingTest {
    @TempDir
    Path dir;

    @Test
    void namesRoundTrip() {
        for (String hf : List.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight",
                "model.layers.12.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight",
                "model.layers.3.post_attention_layernorm.weight", "model.layers.3.self_attn.k_proj.bias")) {
            String g = LlamaNames.toGguf(hf).orElseThrow();
            assertEquals(hf, LlamaNames.toHf(g).orElseThrow());
        }
        assertEquals("blk.12.attn_q.weight", LlamaNames.toGguf("model.layers.12.self_attn.q_proj.weight").orElseThrow());
        assertTrue(LlamaNames.toGguf("model.layers.0.self_attn.rotary_emb.inv_freq").isEmpty());
        List<String> names = new ArrayList<>(List.of("blk.10.ffn_up.weight", "output.weight", "blk.2.attn_q.weight", "token_embd.weight", "blk.2.attn_k.weight"));
        names.sort(LlamaNames::compareWeightOrder);
        assertEquals(List.of("output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.attn_q.weight", "blk.10.ffn_up.weight"), names);
    }

    @Test
    void permutationInvertsAndMatchesFormula() {
        RopePermutation p = new RopePermutation(16, 2);
        // head 0, rows 0..7: out = [0,4,1,5,2,6,3,7]
        long[] expected = {0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15};
        for (int r = 0; r < 16; r++) {
            assertEquals(expected[r], p.sourceOf(r));
            assertEquals(r, p.inverseSourceOf(p.sourceOf(r)));
        }
    }

    private static List<String> llamaNames(int layers, boolean tied) {
        List<String> n = new ArrayList<>(List.of("token_embd.weight", "output_norm.weight"));
        if (!tied) {
            n.add("output.weight");
        }
        for (int i = 0; i < layers; i++) {
            for (String s : List.of("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "attn_norm", "ffn_norm")) {
                n.add("blk." + i + "." + s + ".weight");
            }
        }
        n.sort(LlamaNames::compareWeightOrder);
        return n;
    }

    /** llama.cpp's Q4_K_M mix on a 32-layer 7B: attn_v and ffn_down at use_more_bits layers get Q6_K, output Q6_K. */
    @Test
    void q4KmMixFollowsLlamaCpp() {
        List<String> names = llamaNames(32, false);
        QuantMix mix = new QuantMix(QuantType.Q4_K_M, names, 32, 32, 32);
        List<Integer> v6 = new ArrayList<>();
        List<Integer> d6 = new ArrayList<>();
        for (String n : names) {
            long[] ne = n.contains("norm") ? new long[] {4096} : n.contains("ffn_down") ? new long[] {11008, 4096} : new long[] {4096, 4096};
            GgmlType t = mix.choose(n, ne, n.contains("norm") ? GgmlType.F32 : GgmlType.F16);
            if (n.contains("norm")) {
                assertEquals(GgmlType.F32, t, n);
            } else if (n.equals("output.weight")) {
                assertEquals(GgmlType.Q6_K, t);
            } else if (n.equals("token_embd.weight")) {
                assertEquals(GgmlType.Q4_K, t);
            } else if (n.contains("attn_v") && t == GgmlType.Q6_K) {
                v6.add(LlamaNames.layerOf(n));
            } else if (n.contains("ffn_down") && t == GgmlType.Q6_K) {
                d6.add(LlamaNames.layerOf(n));
            } else {
                assertEquals(GgmlType.Q4_K, t, n);
            }
        }
        List<Integer> expected = List.of(0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31);
        assertEquals(expected, v6);
        assertEquals(expected, d6);
    }

    @Test
    void fallbacksAndTiedEmbeddings() {
        List<String> names = llamaNames(2, true);
        QuantMix mix = new QuantMix(QuantType.Q4_K_S, names, 2, 4, 4);
        assertEquals(GgmlType.Q8_0, mix.choose("token_embd.weight", new long[] {64, 318}, GgmlType.F16), "tied + 64 cols: Q8_0");
        assertEquals(GgmlType.Q5_0, mix.choose("blk.0.attn_q.weight", new long[] {64, 64}, GgmlType.F16), "Q4_K -> Q5_0");
        assertEquals(GgmlType.F16, mix.choose("blk.0.ffn_down.weight", new long[] {172, 64}, GgmlType.F16), "172 cols -> F16");
        assertEquals(GgmlType.F32, mix.choose("blk.0.attn_norm.weight", new long[] {64}, GgmlType.F32));
        QuantMix q6 = new QuantMix(QuantType.Q6_K, names, 2, 4, 4);
        assertEquals(GgmlType.Q8_0, q6.choose("blk.0.attn_q.weight", new long[] {64, 64}, GgmlType.F16), "Q6_K -> Q8_0");
    }

    @Test
    void vocabularyFromTokenizerJsonAndSentencePiece() throws Exception {
        Path d = dir.resolve("tj");
        Files.createDirectories(d);
        Files.writeString(d.resolve("tokenizer.json"), """
                {"added_tokens":[{"id":0,"content":"<unk>","special":true},{"id":1,"content":"<s>","special":true}],
                 "model":{"type":"BPE","unk_token":"<unk>","vocab":{"<unk>":0,"<s>":1,"<0x41>":2,"a":3,"b":4,"ab":5},
                 "merges":["a b"]}}""");
        Files.writeString(d.resolve("tokenizer_config.json"), "{\"bos_token\":\"<s>\",\"unk_token\":\"<unk>\",\"add_bos_token\":true}");
        Map<String, GgufValue> kv = VocabMetadata.read(d, 8);
        GgufValue.Array tokens = (GgufValue.Array) kv.get("tokenizer.ggml.tokens");
        assertEquals(8, tokens.items().size());
        assertEquals(new GgufValue.Str("[PAD7]"), tokens.items().get(7));
        assertEquals(GgufValue.ints(new int[] {2, 3, 6, 1, 1, 1, 5, 5}), kv.get("tokenizer.ggml.token_type"));
        assertEquals(GgufValue.floats(new float[] {0, 0, 0, 0, 0, -1, 0, 0}), kv.get("tokenizer.ggml.scores"));
        assertEquals(1L, kv.get("tokenizer.ggml.bos_token_id").asLong());

        Path s = dir.resolve("spm");
        Files.createDirectories(s);
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        for (Object[] p : new Object[][] {{"<unk>", 0f, 2}, {"<s>", 0f, 3}, {"\u2581a", -1.5f, 1}}) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            byte[] text = ((String) p[0]).getBytes(StandardCharsets.UTF_8);
            piece.write(0x0A);
            piece.write(text.length);
            piece.write(text);
            piece.write(0x15);
            int bits = Float.floatToIntBits((Float) p[1]);
            for (int i = 0; i < 4; i++) {
                piece.write(bits >>> (8 * i));
            }
            piece.write(0x18);
            piece.write((Integer) p[2]);
            model.write(0x0A);
            model.write(piece.size());
            model.write(piece.toByteArray());
        }
        model.write(new byte[] {0x12, 0x02, 0x08, 0x01});
        Files.write(s.resolve("tokenizer.model"), model.toByteArray());
        kv = VocabMetadata.read(s, 3);
        assertEquals(GgufValue.strings(List.of("<unk>", "<s>", "\u2581a")), kv.get("tokenizer.ggml.tokens"));
        assertEquals(GgufValue.floats(new float[] {0, 0, -1.5f}), kv.get("tokenizer.ggml.scores"));
        assertEquals(GgufValue.ints(new int[] {2, 3, 1}), kv.get("tokenizer.ggml.token_type"));
    }

    /** Broken vocabularies are refused in one line instead of a GGUF with a wrong or empty vocabulary (or a crash). */
    @Test
    void brokenVocabulariesAreRefused() throws Exception {
        String ok = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": []}}";
        Map<String, String> cases = Map.of(
                "{\"model\": {\"type\": \"BPE\", \"merges\": []}}", "model.vocab must be a non-empty object",
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": \"x\"}}}", "token 'b' the id \"x\", not an integer",
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 1.5}}}", "token 'a' the id 1.5, not an integer",
                ok.replace("}}", "}, \"added_tokens\": [{\"id\": \"7\", \"content\": \"<x>\"}]}"),
                "added_tokens entry '<x>' has the id \"7\", not an integer");
        int n = 0;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path d = Files.createDirectories(dir.resolve("bad" + n++));
            Files.writeString(d.resolve("tokenizer.json"), c.getKey());
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.ckpt.formats.FormatException.class,
                    () -> VocabMetadata.read(d, 4), c.getKey());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
        Path d = Files.createDirectories(dir.resolve("good"));
        Files.writeString(d.resolve("tokenizer.json"), ok);
        assertEquals(GgufValue.strings(List.of("a", "b", "[PAD2]", "[PAD3]")), VocabMetadata.read(d, 4).get("tokenizer.ggml.tokens"));
        // SentencePiece: a piece whose text length runs past the piece (fuzzer finding; was StringIndexOutOfBounds)
        Path spm = Files.createDirectories(dir.resolve("spm-bad"));
        Files.write(spm.resolve("tokenizer.model"), new byte[] {0x0A, 0x04, 0x0A, 0x7F, 'a', 'b'});
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.ckpt.formats.FormatException.class,
                () -> VocabMetadata.read(spm, 4));
        assertTrue(e.getMessage().contains("not a valid SentencePiece model"), e.getMessage());
    }

    @Test
    void clipNamesMapBackToTheNamesTheyCameFrom() {
        List<String> tower = new ArrayList<>(List.of("embeddings.class_embedding", "embeddings.patch_embedding.weight",
                "embeddings.position_embedding.weight", "pre_layrnorm.weight", "pre_layrnorm.bias"));
        for (String part : List.of("layer_norm1", "layer_norm2", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                "self_attn.out_proj", "mlp.fc1", "mlp.fc2")) {
            tower.add("encoder.layers.11." + part + ".weight");
            tower.add("encoder.layers.11." + part + ".bias");
        }
        for (String hf : tower) {
            assertEquals(java.util.Optional.of(hf), ClipNames.toHf(ClipNames.tower(hf).orElseThrow()), hf);
        }
        for (String hf : List.of("model.mm_projector.0.weight", "model.mm_projector.2.bias")) {
            assertEquals(java.util.Optional.of(hf), ClipNames.toHf(ClipNames.projector(hf).orElseThrow()), hf);
        }
        assertEquals(java.util.Optional.of("post_layernorm.weight"), ClipNames.toHf("v.post_ln.weight"));
        assertTrue(ClipNames.toHf("v.blk.0.attn_qkv.weight").isEmpty());
        assertTrue(ClipNames.toHf("mm.model.fc.weight").isEmpty());
        assertTrue(ClipNames.toHf("token_embd.weight").isEmpty());
    }
}

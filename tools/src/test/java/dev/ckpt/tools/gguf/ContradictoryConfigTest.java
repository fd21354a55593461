package dev.ckpt.tools.gguf;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufValue;
import dev.ckpt.formats.gguf.GgufWriter;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.formats.synthetic.SyntheticLlava;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A config.json whose values are invalid or contradict the tensors ends every command with one line and exit 3
 * (verify: exit 5, the model does not match its config), never an internal error (exit 1) and never a GGUF
 * that llama.cpp would refuse to load. Before the fix each row below gave exit 1 ("/ by zero", "rows cannot be split
 * into heads", "uint32 out of range") or wrote a GGUF whose header contradicted its tensors.
 */
class ContradictoryConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "num_attention_heads|0|positive integer \"num_attention_heads\"",
        "num_attention_heads|3|hidden_size 64 is not a multiple of num_attention_heads 3",
        "num_key_value_heads|0|positive integer \"num_key_value_heads\"",
        "num_key_value_heads|3|num_attention_heads 4 is not a multiple of num_key_value_heads 3",
        "num_key_value_heads|2|blk.0.attn_k.weight has shape [64, 64] but config.json implies [32, 64]",
        "head_dim|6|blk.0.attn_k.weight has shape [64, 64] but config.json implies [24, 64]",
        "hidden_size|-64|positive integer \"hidden_size\"",
        "hidden_size|32|has shape [64] but config.json implies [32]",
        "num_hidden_layers|-1|positive integer \"num_hidden_layers\"",
        "num_hidden_layers|1|blk.1.attn_norm.weight belongs to block 1 but num_hidden_layers is 1",
        "num_hidden_layers|1000000|num_hidden_layers is 1000000 but the checkpoint has tensors for 2 block(s)",
        "intermediate_size|100|blk.0.ffn_down.weight has shape [64, 172] but config.json implies [64, 100]",
        "rms_norm_eps|0|positive number \"rms_norm_eps\"",
        "rope_theta|-1|positive number \"rope_theta\"",
        "max_position_embeddings|0|positive integer \"max_position_embeddings\"",
    })
    void exportAndQuantizeRefuseInOneLine(String key, String value, String expected) throws Exception {
        Path src = modelWith(key, value);
        for (List<String> args : List.of(
                List.of("convert", src.toString(), "--to", "gguf", "--out", dir.resolve("c.gguf").toString()),
                List.of("quantize", src.toString(), "--type", "Q8_0", "--out", dir.resolve("q.gguf").toString()))) {
            GgufConvertTest.Run r = GgufConvertTest.ckpt(args.toArray(String[]::new));
            assertThat(r.code()).as(args.get(0) + ": " + r.err()).isEqualTo(3);
            assertThat(r.err().strip().lines()).as(args.get(0)).hasSize(1);
            assertThat(r.err()).contains(expected).doesNotContain("internal error");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".gguf"))).as("no GGUF written").isEmpty();
        }
    }

    /** The same for GGUF inputs: quantizing or importing a llama GGUF whose head or block counts are unusable. */
    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "llama.attention.head_count|3|convert|do not split into 3 heads of even size (llama.attention.head_count)",
        "llama.attention.head_count_kv|0|convert|do not split into 0 heads of even size (llama.attention.head_count_kv)",
        "llama.block_count|0|quantize|llama.block_count is 0; a llama GGUF needs a positive integer there",
        "llama.attention.head_count|-|quantize|llama.attention.head_count is missing; a llama GGUF needs a positive integer",
    })
    void ggufInputsWithUnusableCountsAreRefusedInOneLine(String key, String value, String command, String expected)
            throws Exception {
        Path src = modelWith("vocab_size", "318");
        Path good = dir.resolve("good.gguf");
        assertThat(GgufConvertTest.ckpt("convert", src.toString(), "--to", "gguf", "--out", good.toString()).code()).isZero();
        Path bad = dir.resolve("bad.gguf");
        try (GgufFile f = GgufFile.open(good)) {
            Map<String, GgufValue> md = new LinkedHashMap<>(f.metadata());
            md.remove("general.alignment");
            if (value.equals("-")) {
                md.remove(key);
            } else {
                md.put(key, new GgufValue.UInt32(Long.parseLong(value)));
            }
            List<GgufWriter.Tensor> tensors = f.ggufTensors().stream().map(t -> new GgufWriter.Tensor(t.name(), t.type(),
                    t.ne(), GgufWriter.TensorSource.of(s -> s.copyFrom(f.bytes(t.name()))))).toList();
            GgufWriter.write(bad, md, tensors, GgufWriter.Options.defaults());
        }
        Path out = dir.resolve(command.equals("convert") ? "back" : "q.gguf");
        GgufConvertTest.Run r = command.equals("convert")
                ? GgufConvertTest.ckpt("convert", bad.toString(), "--out", out.toString())
                : GgufConvertTest.ckpt("quantize", bad.toString(), "--type", "Q8_0", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains(expected);
        assertThat(out).doesNotExist();
    }

    /** A LLaVA config selecting a vision layer the tower does not have: bad input (3), not a usage error (2). */
    @org.junit.jupiter.api.Test
    void llavaSelectLayerOutsideTheTowerIsBadInput() throws Exception {
        Path src = dir.resolve("llava");
        SyntheticLlava.write(src, SyntheticLlava.Options.tiny());
        Path cfg = src.resolve("config.json");
        ObjectNode c = (ObjectNode) JSON.readTree(cfg.toFile());
        c.put("mm_vision_select_layer", -100);
        JSON.writeValue(cfg.toFile(), c);
        GgufConvertTest.Run r = GgufConvertTest.ckpt("verify", src.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("mm_vision_select_layer -100 is outside the 3-layer vision tower");
    }

    /** A vision_config whose heads do not divide its width: verify and the mmproj export refuse it the same way. */
    @org.junit.jupiter.api.Test
    void visionConfigIsValidatedOnceForVerifyAndExport() throws Exception {
        Path src = dir.resolve("llava-vc");
        SyntheticLlava.write(src, SyntheticLlava.Options.tiny());
        Path cfg = src.resolve("config.json");
        ObjectNode c = (ObjectNode) JSON.readTree(cfg.toFile());
        c.putObject("vision_config").put("hidden_size", 128).put("intermediate_size", 256).put("num_hidden_layers", 3)
                .put("num_attention_heads", 3).put("image_size", 56).put("patch_size", 14);
        JSON.writeValue(cfg.toFile(), c);
        for (GgufConvertTest.Run r : List.of(GgufConvertTest.ckpt("verify", src.toString()),
                GgufConvertTest.ckpt("convert", src.toString(), "--to", "gguf", "--out", dir.resolve("v.gguf").toString()))) {
            assertThat(r.code()).as(r.err()).isEqualTo(3);
            assertThat(r.err().strip().lines()).hasSize(1);
            assertThat(r.err()).contains("vision hidden_size 128 is not a multiple of num_attention_heads 3");
        }
    }

    private Path modelWith(String key, String value) throws Exception {
        Path base = shared.resolve("tiny");
        if (!Files.exists(base)) {
            SyntheticLlama.write(base, SyntheticLlama.Options.tiny());
        }
        Path src = dir.resolve("model");
        Files.createDirectories(src);
        try (var files = Files.list(base)) {
            for (Path f : files.toList()) {
                Files.copy(f, src.resolve(f.getFileName()));
            }
        }
        Path cfg = src.resolve("config.json");
        ObjectNode c = (ObjectNode) JSON.readTree(cfg.toFile());
        c.set(key, JSON.readTree(value));
        JSON.writeValue(cfg.toFile(), c);
        return src;
    }
}

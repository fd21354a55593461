package dev.ckpt.tools.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.tools.cli.Main;
import dev.ckpt.verify.TinyModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The mmproj GGUF of a tiny LLaVA parsed by an independent reader, {@code @huggingface/gguf}: same keys in
 * the same order, the mmproj values clip.cpp reads, and every tensor's name, ggml type, ne and offset.
 * (node-llama-cpp ships no clip/mtmd library, so llama.cpp's clip loader itself is not run here.)
 */
class MmprojInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void huggingfaceGgufParsesTheMmproj() throws Exception {
        Peers.assumeInstalled();
        Path src = dir.resolve("llava");
        TinyModels.writeLlava(src, TinyModels.LlamaSpec.small(), TinyModels.ClipSpec.small(), true, null);
        Path out = dir.resolve("tiny.gguf");
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("convert", src.toString(), "--to", "gguf", "--type", "f16", "--out", out.toString()), err.toString());
        Path mm = dir.resolve("tiny.mmproj.gguf");
        JsonNode info = JSON.readTree(Peers.node("gguf-info.mjs", mm.toString()));
        JsonNode md = info.get("metadata");
        assertEquals("clip", md.get("general.architecture").asText());
        assertEquals("mmproj", md.get("general.type").asText());
        assertEquals("mlp", md.get("clip.projector_type").asText());
        assertEquals("true", md.get("clip.has_vision_encoder").asText());
        assertEquals("12", md.get("clip.vision.image_size").asText());
        assertEquals("4", md.get("clip.vision.patch_size").asText());
        assertEquals("128", md.get("clip.vision.embedding_length").asText());
        assertEquals("96", md.get("clip.vision.feed_forward_length").asText());
        assertEquals("64", md.get("clip.vision.projection_dim").asText());
        assertEquals("2", md.get("clip.vision.attention.head_count").asText());
        assertEquals("2", md.get("clip.vision.block_count").asText());
        assertEquals(3, md.get("clip.vision.image_mean").get("length").asInt());
        assertEquals("2", md.get("clip.vision.feature_layer").get("first").asText());
        try (GgufFile f = GgufFile.open(mm)) {
            assertEquals(3, info.get("version").asInt());
            assertEquals(List.copyOf(f.metadata().keySet()), JSON.convertValue(info.get("keys"), List.class));
            JsonNode ts = info.get("tensors");
            assertEquals(f.ggufTensors().size(), ts.size());
            for (int i = 0; i < ts.size(); i++) {
                GgufTensorInfo t = f.ggufTensors().get(i);
                JsonNode j = ts.get(i);
                assertEquals(t.name(), j.get("name").asText());
                assertEquals(t.type().id(), j.get("dtype").asInt(), t.name());
                assertArrayEquals(t.ne(), JSON.convertValue(j.get("shape"), long[].class), t.name());
                assertEquals(t.offset(), j.get("offset").asLong(), t.name());
            }
        }
    }
}

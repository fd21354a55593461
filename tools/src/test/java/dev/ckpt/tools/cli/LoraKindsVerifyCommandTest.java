package dev.ckpt.tools.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.formats.Checkpoint;
import dev.ckpt.formats.DType;
import dev.ckpt.formats.synthetic.SyntheticLlama;
import dev.ckpt.tools.ops.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code merge-lora --verify} for every adapter kind merge-lora merges: the output passes against the
 * base with the adapter applied at run time, unmerged; the same merge with the adapted tensor put
 * back to the base's values before verification (a merge that ignored the adapter kind) exits 5.
 * {@code ckpt verify OUT --reference BASE --reference-lora A} gives the same verdicts.
 */
class LoraKindsVerifyCommandTest {
    @TempDir
    static Path tmp;
    static Path base;
    static long vocab;
    static final int H = 64;
    static final int INTER = 172;

    @BeforeAll
    static void model() throws Exception {
        base = tmp.resolve("base");
        SyntheticLlama.write(base, SyntheticLlama.Options.tiny().withSeed(3));
        try (Checkpoint c = Checkpoint.open(base)) {
            vocab = c.tensor("model.embed_tokens.weight").orElseThrow().shape().dim(0);
        }
    }

    /** An adapter folder (or two) of {@code kind} and the output tensor the kind changes most. */
    private record Case(List<String> loraArgs, String changed) {
    }

    private static Case build(String kind) throws IOException {
        Random r = new Random(kind.hashCode());
        Path dir = tmp.resolve("lora-" + kind);
        List<Fixtures.T> t = new ArrayList<>();
        String q0 = "base_model.model.model.layers.0.self_attn.q_proj";
        switch (kind) {
            case "rslora-patterns" -> {
                for (int l = 0; l < 2; l++) {
                    String p = "base_model.model.model.layers." + l;
                    pair(t, r, p + ".self_attn.q_proj", 4, H, H);
                    pair(t, r, p + ".self_attn.v_proj", 2, H, H);
                    pair(t, r, p + ".mlp.down_proj", 4, H, INTER);
                }
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_rslora": true, "rank_pattern": {"v_proj": 2},
                         "alpha_pattern": {"down_proj": 16}, "target_modules": ["q_proj", "v_proj", "down_proj"]}""", t, null, null);
                return new Case(List.of(dir.toString()), "model.layers.1.mlp.down_proj.weight");
            }
            case "dora" -> {
                for (String m : List.of(q0, "base_model.model.model.layers.1.mlp.down_proj")) {
                    boolean down = m.endsWith("down_proj");
                    pair(t, r, m, 4, H, down ? INTER : H);
                    t.add(uniform(m + ".lora_magnitude_vector", r, 0.3f, 0.9f, H));
                }
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "use_dora": true, "target_modules": ["q_proj", "down_proj"]}""",
                        t, null, null);
                return new Case(List.of(dir.toString()), "model.layers.0.self_attn.q_proj.weight");
            }
            case "fan_in_fan_out" -> {
                // square projections: merge-lora stores s·(B·A)ᵀ, the reference multiplies transposed factors
                pair(t, r, q0, 4, H, H);
                pair(t, r, "base_model.model.model.layers.1.self_attn.o_proj", 4, H, H);
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "fan_in_fan_out": true, "target_modules": ["q_proj", "o_proj"]}""",
                        t, null, null);
                return new Case(List.of(dir.toString()), "model.layers.1.self_attn.o_proj.weight");
            }
            case "dora-fan_in_fan_out" -> {
                pair(t, r, "base_model.model.model.layers.0.self_attn.o_proj", 4, H, H);
                t.add(uniform("base_model.model.model.layers.0.self_attn.o_proj.lora_magnitude_vector", r, 0.3f, 0.9f, H));
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "fan_in_fan_out": true, "use_dora": true,
                         "target_modules": ["o_proj"]}""", t, null, null);
                return new Case(List.of(dir.toString()), "model.layers.0.self_attn.o_proj.weight");
            }
            case "embedding" -> {
                t.add(gauss("base_model.model.model.embed_tokens.lora_embedding_A", r, 1f, 4, vocab));
                t.add(gauss("base_model.model.model.embed_tokens.lora_embedding_B", r, 0.1f, H, 4));
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["embed_tokens"]}""", t, null, null);
                return new Case(List.of(dir.toString()), "model.embed_tokens.weight");
            }
            case "modules_to_save" -> {
                pair(t, r, q0, 4, H, H);
                t.add(gauss("base_model.model.lm_head.weight", r, 0.2f, vocab, H));
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "modules_to_save": ["lm_head"]}""",
                        t, null, null);
                return new Case(List.of(dir.toString()), "lm_head.weight");
            }
            case "two-weighted" -> {
                pair(t, r, q0, 4, H, H);
                Fixtures.adapter(dir, """
                        {"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}""", t, null, null);
                List<Fixtures.T> t2 = new ArrayList<>();
                pair(t2, r, q0, 2, H, H);
                t2.add(gauss("base_model.model.model.embed_tokens.lora_embedding_A", r, 1f, 2, vocab));
                t2.add(gauss("base_model.model.model.embed_tokens.lora_embedding_B", r, 0.1f, H, 2));
                Path dir2 = Fixtures.adapter(tmp.resolve("lora-" + kind + "-2"), """
                        {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "embed_tokens"]}""", t2, null, null);
                return new Case(List.of(dir + ":0.5", dir2 + ":1.5"), "model.layers.0.self_attn.q_proj.weight");
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rslora-patterns", "dora", "fan_in_fan_out", "dora-fan_in_fan_out", "embedding", "modules_to_save",
        "two-weighted"})
    void mergeLoraVerifyPassesAndAnIgnoredAdapterExitsFive(String kind) throws Exception {
        Case c = build(kind);
        Path out = tmp.resolve("merged-" + kind);
        CliRunner ok = mergeLora(c, out);
        assertThat(ok.exitCode()).as(ok.err() + ok.out()).isZero();
        JsonNode v = new ObjectMapper().readTree(ok.out()).get("verification");
        assertThat(v.get("passed").asBoolean()).as(v.toPrettyString()).isTrue();
        assertThat(v.get("comparison").get("top1Agreement").asDouble()).isEqualTo(1.0);

        List<String> verifyArgs = new ArrayList<>(List.of("verify", out.toString(), "--reference", base.toString(), "--device", "cpu",
                "--tokens", "4", "--max-abs-delta", "0.1"));
        c.loraArgs().forEach(a -> verifyArgs.addAll(List.of("--reference-lora", a)));
        CliRunner again = CliRunner.run(verifyArgs.toArray(String[]::new));
        assertThat(again.exitCode()).as(again.err() + again.out()).isZero();

        Path wrong = tmp.resolve("wrong-" + kind);
        VerifyMixin.testHook = o -> restoreFromBase(o, c.changed());
        try {
            CliRunner bad = mergeLora(c, wrong);
            assertThat(bad.exitCode()).as(bad.out()).isEqualTo(5);
            assertThat(bad.err().strip().lines()).singleElement().asString().startsWith("ckpt: verification of " + wrong + " failed: ")
                    .doesNotContain("reference-runs"); // the comparison failed, not the reference
            System.out.println(kind + ": pass " + v.get("comparison") + "; ignored: " + bad.err().strip());
        } finally {
            VerifyMixin.testHook = null;
        }
    }

    private static CliRunner mergeLora(Case c, Path out) {
        List<String> args = new ArrayList<>(List.of("merge-lora", "--base", base.toString(), "--out", out.toString(), "--verify",
                "--verify-device", "cpu", "--json"));
        c.loraArgs().forEach(a -> args.addAll(List.of("--lora", a)));
        return CliRunner.run(args.toArray(String[]::new));
    }

    /** Writes the base's bytes of tensor {@code name} over the output's (same dtype and shape): the adapter "ignored". */
    static void restoreFromBase(Path out, String name) throws IOException {
        restore(base, out, name);
    }

    /** Writes {@code from}'s bytes of tensor {@code name} over those in {@code out} (same dtype and shape). */
    static void restore(Path from, Path out, String name) throws IOException {
        byte[] bytes = Fixtures.bytes(from, name);
        try (var files = Files.list(out)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".safetensors")).toList()) {
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                    ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
                    ch.read(len, 0);
                    int n = (int) len.flip().getLong();
                    ByteBuffer header = ByteBuffer.allocate(n);
                    ch.read(header, 8);
                    JsonNode entry = new ObjectMapper().readTree(header.array()).get(name);
                    if (entry != null) {
                        long begin = entry.get("data_offsets").get(0).asLong();
                        assertThat(entry.get("data_offsets").get(1).asLong() - begin).isEqualTo(bytes.length);
                        ch.write(ByteBuffer.wrap(bytes), 8 + n + begin);
                        return;
                    }
                }
            }
        }
        throw new IllegalStateException("no tensor " + name + " in " + out);
    }

    private static void pair(List<Fixtures.T> t, Random r, String module, int rank, long out, long in) {
        t.add(gauss(module + ".lora_A.weight", r, 0.3f, rank, in));
        t.add(gauss(module + ".lora_B.weight", r, 0.3f, out, rank));
    }

    private static Fixtures.T gauss(String name, Random r, float scale, long rows, long cols) {
        float[] v = new float[Math.toIntExact(rows * cols)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return Fixtures.T.of(name, DType.F32, Fixtures.shape(rows, cols), v);
    }

    private static Fixtures.T uniform(String name, Random r, float low, float high, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = low + (high - low) * r.nextFloat();
        }
        return Fixtures.T.of(name, DType.F32, Fixtures.shape(n), v);
    }
}

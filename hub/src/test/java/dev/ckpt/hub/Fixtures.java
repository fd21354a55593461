package dev.ckpt.hub;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

/** Tiny model folders for hub tests, and independent hash helpers. */
final class Fixtures {
    private Fixtures() {
    }

    /** {@code <models>/acme/tiny/}: config.json, tokenizer/vocab.txt (git files) and a random model.safetensors (LFS). */
    static Path tinyRepo(Path models, int weightBytes) throws IOException {
        Path repo = models.resolve("acme/tiny");
        Files.createDirectories(repo.resolve("tokenizer"));
        Files.writeString(repo.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 8}\n");
        Files.writeString(repo.resolve("tokenizer/vocab.txt"), "a\nb\nc\n");
        Files.writeString(repo.resolve(".gitattributes"), "*.safetensors filter=lfs diff=lfs merge=lfs -text\n");
        byte[] w = new byte[weightBytes];
        new Random(42).nextBytes(w);
        Files.write(repo.resolve("model.safetensors"), w);
        return repo;
    }

    static String sha256(Path p) throws IOException {
        return digest("SHA-256", p, null);
    }

    static String gitSha1(Path p) throws IOException {
        return digest("SHA-1", p, "blob " + Files.size(p) + "\0");
    }

    private static String digest(String alg, Path p, String prefix) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance(alg);
            if (prefix != null) {
                md.update(prefix.getBytes(StandardCharsets.US_ASCII));
            }
            md.update(in.readAllBytes());
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static HubConfig config(String endpoint, Path cache, String token) {
        return new HubConfig(endpoint, token, cache, false, java.time.Duration.ofSeconds(10),
                java.time.Duration.ofMillis(10), 5);
    }
}

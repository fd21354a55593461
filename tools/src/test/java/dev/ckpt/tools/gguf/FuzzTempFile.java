package dev.ckpt.tools.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The one scratch file a fuzz target rewrites for every input (removed when the JVM exits). */
final class FuzzTempFile {
    private FuzzTempFile() {
    }

    static Path create(String suffix) {
        try {
            Path f = Files.createTempFile("ckpt-fuzz", suffix);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

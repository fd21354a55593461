package dev.ckpt.formats;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A non-weight file to place in a written checkpoint directory (config.json, tokenizer files, ...),
 * either copied from a source file or given as bytes. {@code name} is a plain file name.
 */
public sealed interface SideFile {
    /** File name inside the output directory. */
    String name();

    /** Copy {@code source} to {@code name}. */
    record Copy(Path source, String name) implements SideFile {
        public Copy {
            Objects.requireNonNull(source, "source");
            checkName(name);
        }

        /** Copy keeping the source's file name. */
        public static Copy of(Path source) {
            return new Copy(source, source.getFileName().toString());
        }
    }

    /** Write {@code content} to {@code name}. */
    record Bytes(String name, byte[] content) implements SideFile {
        public Bytes {
            checkName(name);
            content = content.clone();
        }

        @Override
        public byte[] content() {
            return content.clone();
        }

        /** UTF-8 text content. */
        public static Bytes utf8(String name, String text) {
            return new Bytes(name, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static void checkName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("side file name must be a plain file name: '" + name + "'");
        }
    }
}

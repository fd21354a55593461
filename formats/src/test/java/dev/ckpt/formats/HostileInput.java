package dev.ckpt.formats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The property every coverage-guided fuzz target checks (Jazzer {@code @FuzzTest}s): a file of arbitrary bytes
 * either opens and every tensor in it can be viewed, or opening or viewing fails with {@link FormatException},
 * which the CLI turns into one line and exit code 3. Any other exception or error (index out of bounds, negative
 * array size, out of memory, stack overflow), a hang or a crash is a finding.
 */
public final class HostileInput {
    /** Opens a file of one format. */
    @FunctionalInterface
    public interface Opener {
        TensorFile open(Path file) throws IOException;
    }

    private static final Path DIR = createDir();

    private HostileInput() {
    }

    /** Writes {@code data} to a file named {@code fileName}, opens it and touches the first and last byte of every tensor. */
    public static void openAndViewAll(byte[] data, String fileName, Opener opener) {
        Path file = DIR.resolve(fileName);
        try {
            Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (TensorFile opened = opener.open(file)) {
            for (TensorInfo t : opened.tensors()) {
                MemorySegment bytes = opened.view(t.name()).data();
                if (bytes.byteSize() > 0) {
                    bytes.get(ValueLayout.JAVA_BYTE, 0);
                    bytes.get(ValueLayout.JAVA_BYTE, bytes.byteSize() - 1);
                }
                opened.fileRange(t.name());
            }
            opened.sharedStorages();
            opened.notes();
        } catch (FormatException expected) {
            // the one acceptable way to refuse a file
        } catch (IOException e) {
            throw new AssertionError("failure other than FormatException: " + e, e);
        }
    }

    private static Path createDir() {
        try {
            Path dir = Files.createTempDirectory("ckpt-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

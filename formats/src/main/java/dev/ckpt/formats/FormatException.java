package dev.ckpt.formats;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An input file that does not follow its format's spec (or is hostile). The message is one line
 * that names the file, what was wrong, and what was expected; the CLI maps it to exit code 3.
 */
public class FormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /** One constant per failure, so tests and callers can tell them apart without parsing text. */
    public enum Kind {
        HEADER_TOO_SMALL, HEADER_TOO_LARGE, INVALID_HEADER_LENGTH, INVALID_HEADER, INVALID_JSON,
        UNKNOWN_DTYPE, INVALID_OFFSET, TENSOR_INVALID_INFO, VALIDATION_OVERFLOW, MISALIGNED_SLICE,
        INCOMPLETE_BUFFER, DUPLICATE_TENSOR, MISSING_TENSOR, MISSING_SHARD, INVALID_INDEX, UNREADABLE,
        UNSUPPORTED, UNSAFE_PICKLE, LIMIT_EXCEEDED, TRUNCATED, INVALID_VALUE, MISMATCH
    }

    private final transient Path file;
    private final Kind kind;

    /** Longest message kept: names taken from a hostile file can be long; the message stays one readable line. */
    private static final int MAX_MESSAGE_CODE_POINTS = 2000;

    public FormatException(Path file, Kind kind, String message) {
        super(oneLine(file, message));
        this.file = file;
        this.kind = kind;
    }

    public FormatException(Path file, Kind kind, String message, Throwable cause) {
        super(oneLine(file, message), cause);
        this.file = file;
        this.kind = kind;
    }

    /**
     * Messages quote names read from the file (tensor names, keys, pickle globals): control characters in them (a NUL,
     * a newline, a terminal escape) become '?', so the message is one line that cannot rewrite the user's terminal.
     */
    private static String oneLine(Path file, String message) {
        return UntrustedText.oneLine((file == null ? "" : file.getFileName() + ": ") + message, MAX_MESSAGE_CODE_POINTS);
    }

    /** The offending file, or null when the problem is not tied to one file. */
    public Path file() {
        return file;
    }

    public Kind kind() {
        return kind;
    }
}

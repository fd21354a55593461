package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import java.nio.file.Path;

/**
 * A pickle that references a global outside the state-dict allow-list. Raised when the GLOBAL
 * opcode is read, so nothing after it (and nothing at all) is ever called. The message is exactly
 * {@code refusing to load <file>: pickle references <module.name>, which is not part of a tensor state dict}.
 */
public final class UnsafePickleException extends FormatException {
    private static final long serialVersionUID = 1L;
    private final String global;
    private final String text;

    UnsafePickleException(Path file, String global) {
        super(file, Kind.UNSAFE_PICKLE, "pickle references " + global);
        this.global = global;
        this.text = "refusing to load " + file + ": pickle references " + global
                + ", which is not part of a tensor state dict";
    }

    /** The refused {@code module.name}. */
    public String global() {
        return global;
    }

    @Override
    public String getMessage() {
        return text;
    }
}

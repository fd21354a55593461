package dev.ckpt.tools.cli;

/** A failure with a user-facing one-line message and a fixed exit code (see {@link ExitCodes}). */
public class CkptException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    public CkptException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CkptException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}

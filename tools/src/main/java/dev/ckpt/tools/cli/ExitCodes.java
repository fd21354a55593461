package dev.ckpt.tools.cli;

import dev.ckpt.formats.FormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * The fixed exit codes of design.md, and the one-line error rendering: no stack trace unless
 * {@code CKPT_DEBUG=1} or {@code --debug} set {@link #debug}.
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int INTERNAL = 1;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;
    public static final int NETWORK = 4;
    public static final int VERIFY_FAILED = 5;

    /** Set by the {@code --debug} option or CKPT_DEBUG=1: print stack traces. */
    public static volatile boolean debug = "1".equals(System.getenv("CKPT_DEBUG"));

    private ExitCodes() {
    }

    /** Exit code for an exception that escaped a subcommand. */
    public static int of(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof CkptException ce) {
            return ce.exitCode();
        }
        if (c instanceof FormatException || c instanceof dev.ckpt.formats.OutOfSpaceException) {
            return BAD_INPUT;
        }
        if (c instanceof dev.ckpt.hub.HubException) {
            return NETWORK;
        }
        if (c instanceof CommandLine.ParameterException) {
            return USAGE;
        }
        if (c instanceof java.nio.file.NoSuchFileException || c instanceof java.nio.file.AccessDeniedException
                || c instanceof java.nio.file.FileAlreadyExistsException || c instanceof java.nio.file.NotDirectoryException) {
            return BAD_INPUT;
        }
        if (fullDisk(c) != null) {
            return BAD_INPUT; // the environment refused the output, as for AccessDeniedException: not a ckpt bug
        }
        return INTERNAL;
    }

    /** What a full or read-only file system said (the JDK keeps only strerror's text), or null. */
    private static String fullDisk(Throwable c) {
        if (!(c instanceof IOException) || c.getMessage() == null) {
            return null;
        }
        for (String s : new String[] {"No space left on device", "Disk quota exceeded", "Read-only file system"}) {
            if (c.getMessage().contains(s)) {
                return s;
            }
        }
        return null;
    }

    static int handle(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
        Throwable c = unwrap(e);
        int code = of(c);
        // one line whatever the message quotes (names from files or servers can hold newlines and escapes)
        String msg = dev.ckpt.formats.UntrustedText.oneLine(message(c, code), 2000);
        cl.getErr().println("ckpt: " + msg);
        if (debug) {
            c.printStackTrace(cl.getErr());
        }
        return code;
    }

    /** One line for an Error that escaped picocli (stack trace only with --debug / CKPT_DEBUG=1); returns the exit code. */
    static int fatal(Error e, java.io.PrintStream err) {
        err.println("ckpt: " + (e instanceof OutOfMemoryError
                ? "out of memory (" + e.getMessage() + "); rerun with a larger heap: CKPT_JAVA_OPTS=-Xmx8g"
                : message(e, INTERNAL)));
        if (debug) {
            e.printStackTrace(err);
        }
        return INTERNAL;
    }

    private static String message(Throwable c, int code) {
        String m = c.getMessage();
        if (c instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory: " + m;
        }
        if (c instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + m;
        }
        if (c instanceof java.nio.file.FileAlreadyExistsException) {
            return m + " already exists (pass --force to replace it)";
        }
        if (fullDisk(c) != null) {
            return fullDisk(c).toLowerCase(java.util.Locale.ROOT) + " while writing: free space or write elsewhere (--out,"
                    + " --cache-dir, --local-dir)";
        }
        if (code == INTERNAL) {
            return "internal error: " + c + " (rerun with --debug or CKPT_DEBUG=1 for details)";
        }
        return m == null ? c.toString() : m;
    }

    private static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof UncheckedIOException || c instanceof CommandLine.ExecutionException
                || c instanceof java.util.concurrent.ExecutionException
                || c instanceof java.util.concurrent.CompletionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}

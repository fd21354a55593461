package dev.ckpt.tools.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ckpt} command: a router over one subcommand per operation. Subcommands bind options,
 * call one library entry point and render its result; {@link ExitCodes} maps failures to codes.
 */
@Command(name = "ckpt", mixinStandardHelpOptions = true, version = "ckpt 0.1.0",
        description = "Download, convert, merge, quantize and verify LLaVA-family checkpoints.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0 ok, 1 internal error, 2 usage, 3 bad input, 4 hub/network, 5 verification failed"},
        subcommands = {
            CommandLine.HelpCommand.class,
            InspectCommand.class,
            ConvertCommand.class,
            DemoCommand.class,
            AotTrainingCommand.class,
            DownloadCommand.class,
            ServeCommand.class,
            ApplyDeltaCommand.class,
            MakeDeltaCommand.class,
            MergeLoraCommand.class,
            VerifyCommand.class,
            QuantizeCommand.class,
        })
public final class Main {
    private Main() {
    }

    /** {@code --debug} (accepted by every subcommand): print stack traces of failures. */
    @CommandLine.Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "print stack traces of failures (same as CKPT_DEBUG=1)")
    void setDebug(boolean value) {
        if (value) {
            ExitCodes.debug = true;
        }
    }

    /** Builds the configured command line (also used by tests, which capture its output). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(ExitCodes::handle);
        cl.setExitCodeExceptionMapper(ExitCodes::of);
        return cl;
    }

    public static void main(String[] args) {
        int code;
        try {
            code = commandLine().execute(args);
        } catch (Error e) {
            // picocli hands only Exceptions to the handler; an Error (out of memory, a faulted mapped access) still
            // ends as one line and exit 1 instead of the JVM's "Exception in thread main" trace
            code = ExitCodes.fatal(e, System.err);
        }
        System.exit(code);
    }
}

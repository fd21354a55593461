package dev.ckpt.tools.cli;

import dev.ckpt.tools.demo.Demo;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ckpt demo [--keep]}: every command on a tiny built-in checkpoint. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Build a tiny Llama checkpoint in a temp dir and run every command on it.")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--keep", description = "keep the temp directory with the demo files")
    boolean keep;

    @Override
    public Integer call() throws Exception {
        int failed = Demo.run(Demo.steps(), spec.commandLine().getOut(), keep);
        return failed == 0 ? ExitCodes.OK : ExitCodes.INTERNAL;
    }
}

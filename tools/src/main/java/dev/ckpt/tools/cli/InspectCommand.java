package dev.ckpt.tools.cli;

import dev.ckpt.tools.ops.Inspect;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt inspect PATH [--json]}: kind, config, tensors, parameters, shards, problems. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe a checkpoint directory or weight file without reading tensor data.",
            "Exits 3 when problems are found (they are listed in the report)."})
public final class InspectCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "checkpoint directory or weight file")
    Path path;

    @Option(names = "--json", description = "print a JSON document instead of text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        path = dev.ckpt.tools.source.SourceResolver.fromEnvironment().resolve(path.toString()); // path or org/name[@rev]
        Inspect.Report report = Inspect.run(path);
        if (json) {
            InspectRenderer.json(report, spec.commandLine().getOut());
        } else {
            InspectRenderer.text(report, spec.commandLine().getOut());
        }
        if (!report.problems().isEmpty()) {
            spec.commandLine().getErr().println("ckpt: " + report.path().getFileName() + ": " + report.problems().size()
                    + " problem(s) found; first: " + report.problems().getFirst());
            return ExitCodes.BAD_INPUT;
        }
        return ExitCodes.OK;
    }
}

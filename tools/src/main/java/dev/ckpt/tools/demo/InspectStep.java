package dev.ckpt.tools.demo;

import dev.ckpt.tools.ops.ByteSize;
import dev.ckpt.tools.ops.Inspect;
import java.nio.file.Path;

/** Inspects a checkpoint of the demo (the source, or an artifact of an earlier step) and checks it has no problems. */
public final class InspectStep implements DemoStep {
    private final String artifact;

    /** @param artifact name of the artifact to inspect, or null for the demo model itself */
    public InspectStep(String artifact) {
        this.artifact = artifact;
    }

    @Override
    public String name() {
        return artifact == null ? "inspect the tiny Llama" : "inspect the " + artifact + " output";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path path = artifact == null ? ctx.model() : ctx.artifacts().get(artifact);
        if (path == null) {
            throw new IllegalStateException("no '" + artifact + "' output from an earlier step");
        }
        Inspect.Report r = Inspect.run(path);
        if (!r.problems().isEmpty()) {
            throw new IllegalStateException("problems: " + r.problems());
        }
        long dtypes = r.tensors().stream().map(Inspect.TensorRow::dtype).distinct().count();
        return String.format("%s, %s, %d tensors (%d dtype%s), %,d parameters, %s in %d file(s)", r.kind().label(),
                r.architecture().orElse("?"), r.tensors().size(), dtypes, dtypes == 1 ? "" : "s", r.parameterCount(),
                ByteSize.format(r.tensorBytes()), r.weightFiles().size());
    }
}

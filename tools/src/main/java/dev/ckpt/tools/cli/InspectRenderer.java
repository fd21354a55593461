package dev.ckpt.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.tools.ops.ByteSize;
import dev.ckpt.tools.ops.Inspect;
import java.io.PrintWriter;
import java.util.Locale;

/** Renders an {@link Inspect.Report} as text for people or as JSON for scripts. */
final class InspectRenderer {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private InspectRenderer() {
    }

    static void text(Inspect.Report r, PrintWriter out) {
        out.println(r.path());
        out.printf("  kind:                     %s (%s)%n", r.kind().label(), r.kindReason());
        r.architecture().ifPresent(a -> out.printf("  architecture:             %s%n", safe(a)));
        r.config().forEach((k, v) -> out.printf("  %-25s %s%n", safe(k) + ":", safe(v.isTextual() ? v.asText() : v.toString())));
        out.printf(Locale.ROOT, "  parameters:               %,d (%.2f B)%n", r.parameterCount(), r.parameterCount() / 1e9);
        out.printf("  tensor bytes:             %s%n", ByteSize.format(r.tensorBytes()));
        out.printf("  weight files:             %s%n", r.weightFiles().isEmpty() ? "(none)" : safe(String.join(", ", r.weightFiles())));
        out.printf("  side files:               %s%n", r.sideFiles().isEmpty() ? "(none)" : safe(String.join(", ", r.sideFiles())));
        if (!r.ignoredFiles().isEmpty()) {
            out.printf("  not read:                 %s%n", safe(String.join(", ", r.ignoredFiles())));
        }
        out.printf("  tensors (%d):%n", r.tensors().size());
        int width = r.tensors().stream().mapToInt(t -> safe(t.name()).length()).max().orElse(4);
        for (Inspect.TensorRow t : r.tensors()) {
            out.printf("    %-" + width + "s  %-5s %-16s %10s  %s%n", safe(t.name()), t.dtype(), t.shape(),
                    ByteSize.format(t.byteSize()), safe(t.file()));
        }
        if (r.problems().isEmpty()) {
            out.println("  problems:                 none");
        } else {
            out.printf("  problems (%d):%n", r.problems().size());
            r.problems().forEach(p -> out.println("    - " + safe(p)));
        }
        out.flush();
    }

    /**
     * Text from the checkpoint's files as one terminal-safe line: a tensor name can hold a newline or an escape
     * sequence that would rewrite the user's screen (JSON output escapes them itself).
     */
    private static String safe(String fromFile) {
        return dev.ckpt.formats.UntrustedText.oneLine(fromFile, 300);
    }

    static void json(Inspect.Report r, PrintWriter out) throws java.io.IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("path", r.path().toString());
        root.put("kind", r.kind().name());
        root.put("kindReason", r.kindReason());
        root.put("architecture", r.architecture().orElse(null));
        ObjectNode config = root.putObject("config");
        r.config().forEach(config::set);
        root.put("parameterCount", r.parameterCount());
        root.put("tensorBytes", r.tensorBytes());
        r.weightFiles().forEach(root.withArray("weightFiles")::add);
        root.withArray("weightFiles");
        r.sideFiles().forEach(root.withArray("sideFiles")::add);
        root.withArray("sideFiles");
        r.ignoredFiles().forEach(root.withArray("ignoredFiles")::add);
        root.withArray("ignoredFiles");
        ArrayNode tensors = root.putArray("tensors");
        for (Inspect.TensorRow t : r.tensors()) {
            ObjectNode n = tensors.addObject().put("name", t.name()).put("dtype", t.dtype().name());
            ArrayNode shape = n.putArray("shape");
            for (long d : t.shape().dims()) {
                shape.add(d);
            }
            n.put("bytes", t.byteSize()).put("file", t.file());
        }
        ArrayNode problems = root.putArray("problems");
        r.problems().forEach(problems::add);
        out.println(JSON.writeValueAsString(root));
        out.flush();
    }
}

package dev.ckpt.tools.demo;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/**
 * What demo steps share.
 *
 * @param workDir a temp directory for step outputs
 * @param model the tiny Llama checkpoint (mixed bf16/f32, two shards + index, config, tokenizer)
 * @param artifacts named outputs of earlier steps (e.g. {@code "f16"} -> converted directory); mutable
 * @param out where steps may print detail lines (indented by the step itself)
 */
public record DemoContext(Path workDir, Path model, Map<String, Path> artifacts, PrintWriter out) {
}

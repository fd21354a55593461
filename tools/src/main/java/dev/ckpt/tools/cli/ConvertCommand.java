package dev.ckpt.tools.cli;

import dev.ckpt.formats.DType;
import dev.ckpt.formats.WriteOptions;
import dev.ckpt.tools.ops.ByteSize;
import dev.ckpt.tools.ops.Convert;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt convert SRC --out DST [--dtype] [--max-shard-size] [--force]}: safetensors in, safetensors out. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a checkpoint to sharded safetensors, optionally changing the float dtype.")
public final class ConvertCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "SRC", description = "checkpoint directory or weight file")
    Path source;

    @Option(names = "--out", required = true, paramLabel = "DST", description = "output directory (created atomically)")
    Path out;

    @Option(names = "--to", defaultValue = "safetensors", description = "output format: safetensors or gguf (a .gguf SRC converts back to safetensors)")
    String to;

    @Option(names = "--type", paramLabel = "f32|f16|bf16|q8_0", description = "GGUF tensor type with --to gguf (default: the source's 16-bit type)")
    String ggufType;

    @Option(names = "--mmproj-out", paramLabel = "FILE", description = "with --to gguf of a LLaVA model: where the vision tower + projector GGUF goes (default: OUT-STEM.mmproj.gguf)")
    Path mmprojOut;

    @Option(names = "--vision-tower", paramLabel = "DIR", description = "with --to gguf of a LLaVA model: the CLIP vision tower checkpoint (default: the tower inside the model or a local mm_vision_tower)")
    Path visionTower;

    @Option(names = "--no-mmproj", description = "with --to gguf of a LLaVA model: write the language model only")
    boolean noMmproj;

    @Option(names = "--dtype", paramLabel = "f32|f16|bf16", description = "convert float tensors to this dtype")
    String dtype;

    @Option(names = "--max-shard-size", defaultValue = "5GB", description = "largest shard (decimal 5GB, or 2GiB); default ${DEFAULT-VALUE}")
    String maxShardSize;

    @Option(names = "--force", description = "replace DST if it exists")
    boolean force;

    @Option(names = "--threads", defaultValue = "0", description = "tensors converted in parallel (0: all cores)")
    int threads;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @picocli.CommandLine.Mixin
    VerifyMixin verify;

    @Override
    public Integer call() throws Exception {
        source = dev.ckpt.tools.source.SourceResolver.fromEnvironment().resolve(source.toString()); // path or org/name[@rev]
        if (to.equalsIgnoreCase("gguf")) {
            return GgufConvert.toGguf(source, out, new GgufConvert.Mmproj(mmprojOut, visionTower, noMmproj), ggufType, force, threads,
                    spec.commandLine().getOut(), verify);
        }
        if (mmprojOut != null || visionTower != null || noMmproj) {
            throw new CkptException(ExitCodes.USAGE, "--mmproj-out, --vision-tower and --no-mmproj apply to --to gguf only");
        }
        if (!to.equalsIgnoreCase("safetensors")) {
            throw new CkptException(ExitCodes.USAGE, "--to " + to + " is not supported (safetensors or gguf)");
        }
        if (GgufConvert.isGguf(source)) {
            return GgufConvert.toSafetensors(source, out, dtype == null ? null : parseDtype(dtype),
                    maxShardSize == null ? WriteOptions.DEFAULT_MAX_SHARD_BYTES : ByteSize.parse(maxShardSize), force, threads,
                    spec.commandLine().getOut(), verify);
        }
        Convert.Options options;
        try {
            options = new Convert.Options(source, out, Optional.ofNullable(dtype).map(ConvertCommand::parseDtype),
                    maxShardSize == null ? WriteOptions.DEFAULT_MAX_SHARD_BYTES : ByteSize.parse(maxShardSize), force, threads);
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage());
        }
        Convert.Report r;
        try {
            r = Convert.run(options, json ? dev.ckpt.formats.ProgressListener.NONE : TerminalProgress.forStderr("converting"));
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.BAD_INPUT, e.getMessage());
        }
        double seconds = Math.max(1e-9, r.write().elapsed().toNanos() / 1e9);
        var o = spec.commandLine().getOut();
        var checked = verify.run(r.out(), new dev.ckpt.verify.Reference.Model(source),
                dtype == null ? dev.ckpt.verify.Verify.Thresholds.EXACT : dev.ckpt.verify.Verify.Thresholds.ROUNDED);
        if (json) {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("out", r.out().toString())
                    .put("tensors", r.tensorCount()).put("converted", r.convertedTensors()).put("sourceBytes", r.sourceBytes())
                    .put("outputBytes", r.write().tensorBytes()).put("shards", r.write().weightFiles().size())
                    .put("sideFiles", r.write().sideFiles().size()).put("seconds", Math.round(seconds * 1000) / 1000.0)
                    .put("deAliased", r.deAliased().size());
            VerifyMixin.addTo(node, checked);
            o.println(node);
        } else {
            o.printf(Locale.ROOT, "wrote %s: %d tensors (%d converted), %s in %d shard(s), %d side files, %.2f s (%s/s read)%n",
                    r.out(), r.tensorCount(), r.convertedTensors(), ByteSize.format(r.write().tensorBytes()),
                    r.write().weightFiles().size(), r.write().sideFiles().size(), seconds, ByteSize.format((long) (r.sourceBytes() / seconds)));
            for (var group : r.deAliased()) {
                o.println("de-aliased tied tensors (shared one storage, now written once per name): " + String.join(", ", group));
            }
        }
        o.flush();
        if (!json) {
            VerifyMixin.printSummary(checked, o);
        }
        VerifyMixin.requirePassed(checked, r.out());
        return ExitCodes.OK;
    }

    static DType parseDtype(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> DType.F32;
            case "f16", "float16", "fp16", "half" -> DType.F16;
            case "bf16", "bfloat16" -> DType.BF16;
            default -> throw new IllegalArgumentException("--dtype " + s + " is not supported (f32, f16 or bf16)");
        };
    }
}

package dev.ckpt.verify;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.verify.SmokeReport.Check;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One smoke-inference pass over one opened checkpoint: plan device and dtype, load every weight
 * (Llama decoder, plus CLIP tower and projector for LLaVA), build the prompt, prefill, and
 * greedy-decode (or teacher-force given tokens, for reference runs). Engine memory lives in one
 * manager closed before {@link #run} returns.
 */
final class SmokeRun {
    static final String DEFAULT_PROMPT = "The capital of France is";
    static final String DEFAULT_QUESTION = "What is shown in this image? Answer briefly.";
    /** Used when a checkpoint ships no tokenizer: BOS + "The capital of France is" in the LLaMA vocab. */
    private static final int[] FALLBACK_IDS = {1, 450, 7483, 310, 3444, 338};

    /** What to run: the parsed command-line choices that affect inference. */
    record Settings(String device, String dtype, String prompt, int[] promptIds, Path image, Path visionTower, int tokens,
                    List<RuntimeAdapter> loraAdapters) {
    }

    /** What came out; {@code logits[i]} produced {@code generated[i]}. */
    record Result(String architecture, DevicePlan plan, int tensorCount, long parameterCount, long loadMillis,
                  int prefillTokens, double prefillTokensPerSecond, double decodeTokensPerSecond, int[] promptIds,
                  int[] generated, String text, float[][] logits, List<Check> checks) {
    }

    private SmokeRun() {
    }

    /**
     * @param forced tokens to feed instead of the argmax (teacher forcing), or null for greedy
     * @throws FormatException for unreadable input (no config, bad tokenizer, image, unsupported
     *     architecture); a missing or mis-shaped tensor is a failed check instead
     */
    static Result run(WeightSource source, Settings s, int[] forced) throws IOException {
        Path dir = Files.isDirectory(source.root()) ? source.root() : source.root().toAbsolutePath().getParent();
        Path configFile = dir.resolve("config.json");
        ObjectNode config = source.config().orElseThrow(() -> new FormatException(dir, Kind.MISSING_TENSOR,
                "no readable config.json beside the weights; verify needs the model's config"
                        + (source.problems().isEmpty() ? "" : " (" + String.join("; ", source.problems()) + ")")));
        LlamaConfig cfg = LlamaConfig.parse(config, configFile);
        String arch = config.path("architectures").path(0).asText(config.path("model_type").asText("?"));
        List<TensorInfo> tensors = source.tensors();
        long params = tensors.stream().mapToLong(TensorInfo::elementCount).sum();
        DevicePlan plan = DevicePlan.choose(s.device(), s.dtype(), tensors);
        List<Check> checks = new ArrayList<>();
        if (!source.problems().isEmpty()) {
            checks.add(new Check("checkpoint-consistent", false, String.join("; ", source.problems())));
        }
        NDManager manager = NDManager.newBaseManager(plan.device());
        try (WeightStore store = new WeightStore(source, manager, plan.computeType());
             LoraAdapter.Group adapter = LoraAdapter.Group.open(s.loraAdapters(), manager, plan.computeType())) {
            long t0 = System.nanoTime();
            LlamaDecoder decoder;
            LlavaVision vision = null;
            try {
                decoder = new LlamaDecoder(cfg, store, adapter);
                if (LlavaVision.isLlava(config, store)) {
                    // a source with its own tower (GGUF + mmproj) is verified on that tower, whatever --vision-tower says
                    vision = LlavaVision.load(config, configFile, store, s.visionTower(), source.ownsVisionTower(), cfg.hiddenSize());
                }
            } catch (FormatException e) {
                if (e.kind() != Kind.MISSING_TENSOR && e.kind() != Kind.MISMATCH) {
                    throw e;
                }
                checks.add(new Check("tensors-match-config", false, e.getMessage()));
                return new Result(arch, plan, tensors.size(), params, 0, 0, 0, 0, new int[0], new int[0], "", new float[0][], checks);
            }
            long loadMillis = (System.nanoTime() - t0) / 1_000_000;
            checks.add(new Check("tensors-match-config", true, tensors.size() + " tensors loaded, shapes as config.json implies"));
            List<String> unused = store.unused();
            checks.add(new Check("tensors-used", unused.isEmpty(), unused.isEmpty() ? "every tensor consumed"
                    : unused.size() + " tensor(s) not used by the forward pass: " + preview(unused)));
            if (store.f16Overflows() > 0) {
                checks.add(new Check("f16-range", false, store.f16Overflows() + " BF16 weight(s) exceed the F16 range when computed in"
                        + " F16 (too little memory for F32): verify with --dtype f32 on a larger machine or a GPU"));
            }
            if (!adapter.isEmpty()) {
                List<String> unusedLora = adapter.unused();
                checks.add(new Check("adapter-used", unusedLora.isEmpty(), unusedLora.isEmpty() ? "every adapter tensor applied at run time"
                        : unusedLora.size() + " adapter tensor(s) match no layer the forward pass runs: " + preview(unusedLora)));
            }
            try (LlavaVision v = vision; TextTokenizer tok = tokenizer(dir, s)) {
                int[] ids = promptIds(s, tok, v != null, config.path("mm_use_im_start_end").asBoolean(false), cfg, checks);
                Decoded d = decode(decoder, v, s, ids, forced, cfg.eosTokenId(), checks);
                String text = tok == null ? "" : tok.decode(d.generated());
                return new Result(arch, plan, tensors.size(), params, loadMillis, d.prefillTokens(), d.prefillTokensPerSecond(),
                        d.decodeTokensPerSecond(), ids, d.generated(), text, d.logits(), checks);
            }
        }
    }

    /** Prefill + greedy (or forced) decode; {@code logits[i]} produced {@code generated[i]}. */
    private record Decoded(int prefillTokens, double prefillTokensPerSecond, double decodeTokensPerSecond, int[] generated,
                           float[][] logits) {
    }

    private static Decoded decode(LlamaDecoder decoder, LlavaVision vision, Settings s, int[] ids, int[] forced, int eos,
                                  List<Check> checks) throws IOException {
        int vocab = decoder.config().vocabSize();
        for (int id : ids) {
            if (id != LlavaPrompt.IMAGE_TOKEN && (id < 0 || id >= vocab)) {
                throw new FormatException(null, Kind.INVALID_VALUE, "prompt token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
            }
        }
        int steps = forced != null ? forced.length : s.tokens();
        float[][] logits = new float[steps][];
        int[] generated = new int[steps];
        int n = 0;
        boolean finite = true;
        long prefillNanos;
        long decodeNanos = 0;
        int prefillTokens;
        try (LlamaDecoder.KvCache cache = decoder.newCache(); NDArray embeds = inputEmbeddings(decoder, vision, s, ids)) {
            prefillTokens = Math.toIntExact(embeds.getShape().get(0));
            long t0 = System.nanoTime();
            NDArray out = decoder.forward(embeds, cache, false);
            prefillNanos = System.nanoTime() - t0;
            while (true) {
                float[] row = out.toFloatArray();
                out.close();
                finite &= allFinite(row);
                logits[n] = row;
                int next = forced != null ? forced[n] : LogitComparison.argmax(row, row.length);
                generated[n++] = next;
                if (n == steps || (forced == null && next == eos)) {
                    break;
                }
                long t1 = System.nanoTime();
                try (NDArray e = decoder.embed(new long[] {next})) {
                    out = decoder.forward(e, cache, false);
                }
                decodeNanos += System.nanoTime() - t1;
            }
        }
        int[] gen = Arrays.copyOf(generated, n);
        checks.add(new Check("logits-finite", finite, finite ? "no NaN or infinity in " + n + " position(s)" : "NaN or infinite logits"));
        checks.add(new Check("greedy-decode", n > 0, n + " token(s) generated"));
        double prefillTps = prefillTokens / Math.max(prefillNanos / 1e9, 1e-9);
        double decodeTps = n > 1 ? (n - 1) / Math.max(decodeNanos / 1e9, 1e-9) : 0;
        return new Decoded(prefillTokens, prefillTps, decodeTps, gen, Arrays.copyOf(logits, n));
    }

    private static NDArray inputEmbeddings(LlamaDecoder decoder, LlavaVision vision, Settings s, int[] ids) throws IOException {
        if (vision == null) {
            if (Arrays.stream(ids).anyMatch(i -> i == LlavaPrompt.IMAGE_TOKEN)) {
                throw new FormatException(null, Kind.INVALID_VALUE, "prompt has an image token (-200) but the model is not LLaVA");
            }
            return decoder.embed(Arrays.stream(ids).asLongStream().toArray());
        }
        BufferedImage img = s.image() != null ? ImageInput.read(s.image()) : ImageInput.builtIn();
        float[] chw = ImageInput.preprocess(img, vision.imageSize(), vision.padToSquare());
        NDList parts = new NDList();
        try {
            int from = 0;
            for (int i = 0; i <= ids.length; i++) {
                if (i == ids.length || ids[i] == LlavaPrompt.IMAGE_TOKEN) {
                    if (i > from) {
                        parts.add(decoder.embed(Arrays.stream(ids, from, i).asLongStream().toArray()));
                    }
                    if (i < ids.length) {
                        parts.add(vision.imageEmbeddings(chw));
                    }
                    from = i + 1;
                }
            }
            return NDArrays.concat(parts, 0);
        } finally {
            parts.close();
        }
    }

    private static TextTokenizer tokenizer(Path dir, Settings s) throws IOException {
        boolean hasTokenizer = Files.isRegularFile(dir.resolve("tokenizer.json")) || Files.isRegularFile(dir.resolve("tokenizer.model"));
        return hasTokenizer ? TextTokenizer.open(dir) : null;
    }

    private static int[] promptIds(Settings s, TextTokenizer tok, boolean llava, boolean imStartEnd, LlamaConfig cfg,
                                   List<Check> checks) {
        if (s.promptIds() != null) {
            return s.promptIds();
        }
        if (tok == null) {
            int[] ids = Arrays.stream(FALLBACK_IDS).map(i -> i % cfg.vocabSize()).toArray();
            checks.add(new Check("tokenizer", true, "no tokenizer beside the weights: fixed prompt ids " + Arrays.toString(ids)));
            return llava ? concat(ids, LlavaPrompt.IMAGE_TOKEN) : ids;
        }
        if (llava) {
            String q = s.prompt() != null ? s.prompt() : DEFAULT_QUESTION;
            return LlavaPrompt.tokenize(tok, LlavaPrompt.text(q, imStartEnd));
        }
        return tok.encode(s.prompt() != null ? s.prompt() : DEFAULT_PROMPT, true);
    }

    private static int[] concat(int[] a, int b) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }

    private static boolean allFinite(float[] row) {
        for (float f : row) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    private static String preview(List<String> names) {
        return names.size() <= 5 ? String.join(", ", names) : String.join(", ", names.subList(0, 5)) + ", ...";
    }
}

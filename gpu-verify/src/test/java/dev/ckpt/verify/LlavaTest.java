package dev.ckpt.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.ckpt.formats.FormatException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlavaTest {
    @TempDir
    Path tmp;

    private final TinyModels.LlamaSpec spec = TinyModels.LlamaSpec.small();
    private final TinyModels.ClipSpec clip = TinyModels.ClipSpec.small();

    @Test
    void imageFeaturesMatchPlainJavaClipAndProjector() throws Exception {
        Path dir = tmp.resolve("llava");
        Map<String, float[]> w = TinyModels.writeLlava(dir, spec, clip, true, null);
        float[] chw = ImageInput.preprocess(ImageInput.builtIn(), clip.grid() * clip.patch(), true);
        double[][] expected = new ReferenceClip(w, clip, spec.hidden()).imageEmbeddings(chw);
        try (CheckpointSource src = CheckpointSource.open(dir);
             WeightStore store = new WeightStore(src, NDManager.newBaseManager(), DataType.FLOAT32);
             LlavaVision vision = LlavaVision.load(src.config().orElseThrow(), dir.resolve("config.json"), store, null, false, spec.hidden());
             NDArray feats = vision.imageEmbeddings(chw)) {
            assertThat(feats.getShape().getShape()).containsExactly(clip.grid() * clip.grid(), spec.hidden());
            float[] actual = feats.toFloatArray();
            double scale = Arrays.stream(expected).flatMapToDouble(Arrays::stream).map(Math::abs).max().orElseThrow();
            for (int i = 0; i < actual.length; i++) {
                double e = expected[i / spec.hidden()][i % spec.hidden()];
                assertThat((double) actual[i]).as("feature %d", i).isCloseTo(e, Offset.offset(2e-6 * scale));
            }
            assertThat(store.unused()).as("last CLIP block and post_layernorm are ignored, LLM not loaded here")
                    .allMatch(n -> n.startsWith("model.layers") || n.startsWith("model.embed") || n.startsWith("model.norm") || n.startsWith("lm_head"));
        }
    }

    @Test
    void llavaRunSplicesImageFeaturesAtTheImageToken() throws Exception {
        Path dir = tmp.resolve("llava");
        Map<String, float[]> w = TinyModels.writeLlava(dir, spec, clip, true, null);
        int[] ids = {1, 280, LlavaPrompt.IMAGE_TOKEN, 290, 300};
        var options = new Verify.Options(dir, null, "cpu", "f32", null, Arrays.stream(ids).boxed().toList(), null, null, 2,
                Verify.Thresholds.EXACT);
        Verify.Outcome out = Verify.runWithLogits(options);
        assertThat(out.report().passed()).as(ReportFormats.summary(out.report())).isTrue();
        int patches = clip.grid() * clip.grid();
        assertThat(out.report().prefillTokens()).isEqualTo(ids.length - 1 + patches);

        float[] chw = ImageInput.preprocess(ImageInput.builtIn(), clip.grid() * clip.patch(), true);
        double[][] image = new ReferenceClip(w, clip, spec.hidden()).imageEmbeddings(chw);
        ReferenceLlama ref = new ReferenceLlama(w, spec, TinyModels.vocab().size());
        double[][] before = ref.embed(new int[] {1, 280});
        double[][] after = ref.embed(new int[] {290, 300});
        double[][] seq = new double[before.length + patches + after.length][];
        System.arraycopy(before, 0, seq, 0, before.length);
        System.arraycopy(image, 0, seq, before.length, patches);
        System.arraycopy(after, 0, seq, before.length + patches, after.length);
        double[] expected = ref.lastLogits(seq);
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) out.logits()[0][i]).isCloseTo(expected[i], Offset.offset(2e-4));
        }
    }

    @Test
    void separateVisionTowerAndTextPromptWork() throws Exception {
        Path dir = tmp.resolve("llava");
        Path tower = tmp.resolve("tower");
        TinyModels.writeLlava(dir, spec, clip, false, tower);
        var options = new Verify.Options(dir, null, "cpu", "auto", "What is this?", null, null, tower, 3, Verify.Thresholds.EXACT);
        SmokeReport r = Verify.run(options);
        assertThat(r.passed()).as(ReportFormats.summary(r)).isTrue();
        assertThat(r.promptIds()).contains(LlavaPrompt.IMAGE_TOKEN).startsWith(1);
    }

    @Test
    void llavaWithoutTowerNamesTheFix() throws Exception {
        Path dir = tmp.resolve("llava");
        TinyModels.writeLlava(dir, spec, clip, false, null);
        assertThatThrownBy(() -> Verify.run(Verify.Options.of(dir))).isInstanceOf(FormatException.class)
                .hasMessageContaining("--vision-tower");
    }

    @Test
    void linearProjectorAndUnknownProjectorType() throws Exception {
        Path dir = tmp.resolve("llava");
        Map<String, float[]> w = TinyModels.writeLlava(dir, spec, clip, true, null);
        try (CheckpointSource src = CheckpointSource.open(dir);
             WeightStore store = new WeightStore(src, NDManager.newBaseManager(), DataType.FLOAT32)) {
            // mlp2x_gelu's first linear doubles as a linear projector over the same tensors' shapes
            List<dev.ckpt.formats.TensorInfo> renamed = src.tensors().stream()
                    .filter(t -> t.name().startsWith("model.mm_projector.0."))
                    .map(t -> t.withName(t.name().replace("mm_projector.0.", "mm_projector."))).toList();
            var stub = new WeightSource() {
                public Path root() { return dir; }
                public List<dev.ckpt.formats.TensorInfo> tensors() {
                    return renamed;
                }
                public dev.ckpt.formats.TensorView view(String name) throws java.io.IOException {
                    var v = src.view(name.replace("mm_projector.", "mm_projector.0."));
                    return new dev.ckpt.formats.TensorView(v.info().withName(name), v.data());
                }
                public java.util.Optional<com.fasterxml.jackson.databind.node.ObjectNode> config() { return java.util.Optional.empty(); }
                public void close() { }
            };
            try (WeightStore linearStore = new WeightStore(stub, NDManager.newBaseManager(), DataType.FLOAT32)) {
                Projector p = new Projector("linear", linearStore, clip.hidden(), spec.hidden());
                float[] x = new float[clip.hidden()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (i % 7) * 0.1f - 0.3f;
                }
                try (NDArray in = linearStore.manager().create(x, new ai.djl.ndarray.types.Shape(1, clip.hidden()));
                     NDArray out = p.project(in)) {
                    float[] wt = w.get("model.mm_projector.0.weight");
                    float[] b = w.get("model.mm_projector.0.bias");
                    float[] y = out.toFloatArray();
                    for (int o = 0; o < spec.hidden(); o++) {
                        double e = b[o];
                        for (int i = 0; i < x.length; i++) {
                            e += (double) wt[o * x.length + i] * x[i];
                        }
                        assertThat((double) y[o]).isCloseTo(e, Offset.offset(1e-4));
                    }
                }
                assertThat(linearStore.unused()).isEmpty();
            }
            assertThatThrownBy(() -> new Projector("resampler", store, clip.hidden(), spec.hidden()))
                    .isInstanceOf(FormatException.class).hasMessageContaining("resampler");
        }
    }

    @Test
    void llava16ImageHandlingIsReportedUnsupported() throws Exception {
        Path dir = tmp.resolve("llava");
        TinyModels.writeLlava(dir, spec, clip, true, null);
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) TinyModels.JSON.readTree(dir.resolve("config.json").toFile());
        cfg.put("image_aspect_ratio", "anyres").put("mm_patch_merge_type", "spatial_unpad");
        TinyModels.JSON.writeValue(dir.resolve("config.json").toFile(), cfg);
        assertThatThrownBy(() -> Verify.run(Verify.Options.of(dir))).isInstanceOf(FormatException.class)
                .hasMessageContaining("LLaVA-1.6").hasMessageContaining("anyres");
    }

    @Test
    void promptTemplateIsLlavaV1() {
        assertThat(LlavaPrompt.text("Hi?", false)).endsWith("human's questions. USER: <image>\nHi? ASSISTANT:");
        assertThat(List.of(LlavaPrompt.IMAGE_TOKEN)).containsExactly(-200);
    }
}

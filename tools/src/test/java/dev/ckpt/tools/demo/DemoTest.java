package dev.ckpt.tools.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.tools.cli.ExitCodes;
import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.synthetic.SyntheticLlava;
import dev.ckpt.tools.gguf.MmprojFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTest {
    @Test
    void allStepsPass() throws Exception {
        StringWriter out = new StringWriter();
        int failed = Demo.run(Demo.steps(), new PrintWriter(out), false);
        assertThat(failed).as(out.toString()).isZero();
        assertThat(out.toString()).contains("[1/", "convert to f16: ok", "demo ok")
                .contains("; rebuilt passed vs model + delta in f32 (max |dlogit| ")
                .contains("; merged passed vs model + LoRA at run time (max |dlogit| ")
                .contains("LLaVA to GGUF f16 + mmproj, verified: ok: ", "16 image patches + ", "top-1 1.00, max |dlogit| 0.0, ");
    }

    @Test
    void theLlavaStepFailsWhenTheMmprojDoesNotMatchItsSource(@TempDir Path tmp) throws Exception {
        DemoContext ctx = new DemoContext(tmp, tmp.resolve("unused"), new HashMap<>(), new PrintWriter(new StringWriter()));
        assertThat(new LlavaGgufStep().run(ctx)).contains("top-1 1.00");
        Path src = ctx.artifacts().get("llava");
        Path model = ctx.artifacts().get("llava.gguf");
        Path mmproj = ctx.artifacts().get("llava.mmproj.gguf");
        int lm;
        int mm;
        try (GgufFile a = GgufFile.open(model); GgufFile b = GgufFile.open(mmproj)) {
            lm = a.ggufTensors().size();
            mm = b.ggufTensors().size();
        }
        var pair = new LlavaGgufStep.Pair(model, lm, mmproj, mm);
        int patches = SyntheticLlava.Options.tiny().patchCount();
        MmprojFiles.scale(mmproj, "mm.0.weight", 0); // the image features change, the text weights do not
        assertThatThrownBy(() -> LlavaGgufStep.verify(src, pair, patches)).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("GGUF + mmproj pair failed verification: max-abs-logit-delta: ");
    }

    @Test
    void theVerifyStepCatchesAMergeThatDoesNotMatchItsAdapter() throws Exception {
        List<DemoStep> steps = new ArrayList<>(Demo.steps().stream().filter(s -> s instanceof LoraStep || s instanceof VerifyStep).toList());
        steps.add(1, new DemoStep() {
            @Override
            public String name() {
                return "swap the adapter";
            }

            @Override
            public String run(DemoContext ctx) throws Exception {
                ctx.artifacts().put("lora", LoraStep.writeAdapter(ctx.model(), ctx.workDir().resolve("other-lora"), 7));
                return "claims another adapter was merged";
            }
        });
        StringWriter out = new StringWriter();
        assertThat(Demo.run(steps, new PrintWriter(out), false)).as(out.toString()).isEqualTo(1);
        assertThat(out.toString()).contains("verify the model and every output: FAILED: merged failed verification: ");
    }

    @Test
    void aFailingStepIsReportedAndCounted() throws Exception {
        List<DemoStep> steps = new ArrayList<>(Demo.steps());
        steps.add(new DemoStep() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public String run(DemoContext context) {
                throw new IllegalStateException("on purpose");
            }
        });
        StringWriter out = new StringWriter();
        assertThat(Demo.run(steps, new PrintWriter(out), false)).isEqualTo(1);
        assertThat(out.toString()).contains("broken: FAILED: on purpose", "demo FAILED");
        assertThat(ExitCodes.INTERNAL).isEqualTo(1);
    }
}

package dev.ckpt.tools.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.tools.cli.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoTest {
    @Test
    void allStepsPass() throws Exception {
        StringWriter out = new StringWriter();
        int failed = Demo.run(Demo.steps(), new PrintWriter(out), false);
        assertThat(failed).as(out.toString()).isZero();
        assertThat(out.toString()).contains("[1/", "convert to f16: ok", "demo ok")
                .contains("; rebuilt passed vs model + delta in f32 (max |dlogit| ")
                .contains("; merged passed vs model + LoRA at run time (max |dlogit| ");
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

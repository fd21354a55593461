package dev.ckpt.tools.demo;

/**
 * One step of {@code ckpt demo}: exercises one capability on the demo checkpoint through the library
 * (not the CLI) and says in one line what it did. Each capability adds one class and one line in
 * {@link Demo#steps()}.
 */
public interface DemoStep {
    /** Short name shown before the step runs, e.g. {@code "convert to f16"}. */
    String name();

    /**
     * Runs the step. Outputs go under {@link DemoContext#workDir()}; results later steps need are put
     * into {@link DemoContext#artifacts()}.
     *
     * @return one line describing what was done
     * @throws Exception any failure fails the step (the demo goes on with the next step, and exits non-zero)
     */
    String run(DemoContext context) throws Exception;
}

import dev.ckpt.verify.TinyModels;
import java.nio.file.Path;

/** Writes the tiny F32 LLaVA fixture (CLIP tower inside) used by run.sh. */
public class Gen {
    public static void main(String[] a) throws Exception {
        TinyModels.writeLlava(Path.of(a[0]), TinyModels.LlamaSpec.small(), TinyModels.ClipSpec.small(), true, null);
    }
}

package dev.ckpt.tools.gguf;

import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.verify.CheckpointSource;
import dev.ckpt.verify.PlannedSource;
import dev.ckpt.verify.Verify;
import dev.ckpt.verify.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A llama GGUF as the verifier's {@link WeightSource}, without writing a safetensors copy: tensors under
 * their Hugging Face names, the Q/K permutation undone and quantized blocks dequantized to F32 on first
 * use (the recipes of {@link GgufImport#plan}), config.json rebuilt from the GGUF keys. Dequantized
 * tensors live in native memory until the source closes (4 bytes per parameter for a quantized file).
 * Side files (tokenizer) are looked up beside the .gguf file.
 */
public final class GgufSource {
    /** Opens {@code .gguf} files with {@link #open}, everything else with {@link CheckpointSource#open}. */
    public static final Verify.Opener OPENER = opener(null);

    private GgufSource() {
    }

    /** True for a regular file named {@code *.gguf}. */
    public static boolean isGguf(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf");
    }

    /**
     * {@link #OPENER}, with the side files of a GGUF (tokenizer.json / tokenizer.model, which GGUF does
     * not carry as files) taken from directory {@code sideFilesFrom} when it is one (the unquantized
     * source the GGUF was made from, so both runs tokenize the prompt alike).
     */
    public static Verify.Opener opener(Path sideFilesFrom) {
        return p -> isGguf(p) ? open(p, sideFilesFrom) : CheckpointSource.open(p);
    }

    /**
     * {@link #opener(Path)}, except that {@code model} (a language GGUF) opens together with its
     * {@code mmproj} as one LLaVA model ({@link MmprojSource#openPair}): the verifier then runs the
     * image path on the mmproj's tower and projector. {@code sideFilesFrom} is also the reference the
     * mmproj is checked against; {@code visionTower} is that reference's separate tower, or null.
     */
    public static Verify.Opener opener(Path sideFilesFrom, Path model, Path mmproj, Path visionTower) {
        Verify.Opener plain = opener(sideFilesFrom);
        return mmproj == null ? plain : p -> p.equals(model) ? MmprojSource.openPair(model, mmproj, sideFilesFrom, visionTower)
                : plain.open(p);
    }

    /** {@link #open(Path, Path)} with side files looked up beside the .gguf file. */
    public static WeightSource open(Path gguf) throws IOException {
        return open(gguf, null);
    }

    /**
     * @param sideFilesFrom directory whose tokenizer files the verifier uses, or null for the .gguf's folder
     * @throws dev.ckpt.formats.FormatException when the file is not a llama GGUF this code reads
     */
    public static WeightSource open(Path gguf, Path sideFilesFrom) throws IOException {
        GgufFile f = GgufFile.open(gguf);
        try {
            GgufImport.Imported plan = GgufImport.plan(f, null);
            Path root = sideFilesFrom != null && Files.isDirectory(sideFilesFrom) ? sideFilesFrom : gguf;
            return new PlannedSource(root, plan.tensors(), plan.config(), f);
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }
}

package dev.ckpt.formats;

import dev.ckpt.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Writes the seed inputs of the Jazzer fuzz targets into {@code src/test/resources} (run once by hand, the files
 * are committed): {@code java -cp ... dev.ckpt.formats.FuzzSeeds formats/src/test/resources}. Safetensors and GGUF
 * seeds come from ckpt's writers; torch seeds are the fixtures PyTorch itself wrote ({@code torch/}), and their
 * {@code data.pkl} records seed the pickle target.
 */
public final class FuzzSeeds {
    private FuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path res = Path.of(args[0]);
        Path base = res.resolve("dev/ckpt/formats");
        Path st = Files.createDirectories(base.resolve("safetensors/SafetensorsOpenFuzzTestInputs/openAndViewAll"));
        SafetensorsWriter.write(st.resolve("seed-three.safetensors"), List.of(
                new PlannedTensor(new TensorInfo("model.embed.weight", DType.BF16, Shape.of(4, 3)), t -> t.fill((byte) 7)),
                new PlannedTensor(new TensorInfo("norm", DType.F32, Shape.of(3)), t -> t.fill((byte) 1)),
                new PlannedTensor(new TensorInfo("ids", DType.I64, Shape.of(2)), t -> t.fill((byte) 2)),
                new PlannedTensor(new TensorInfo("empty", DType.F16, Shape.of(0, 5)), t -> { })),
                Map.of("format", "pt"));
        dev.ckpt.formats.gguf.FuzzSeedsAccess.write(
                Files.createDirectories(base.resolve("gguf/GgufOpenFuzzTestInputs/openAndViewAll")));
        Path bin = Files.createDirectories(base.resolve("torch/TorchBinOpenFuzzTestInputs/openAndViewAll"));
        Path pkl = Files.createDirectories(base.resolve("torch/PickleFuzzTestInputs/unpickleStateDict"));
        try (var fixtures = Files.list(res.resolve("torch"))) {
            for (Path f : fixtures.filter(p -> p.toString().matches(".*\\.(bin|pt)")).sorted().toList()) {
                String name = f.getFileName().toString();
                Files.copy(f, bin.resolve("seed-" + name), StandardCopyOption.REPLACE_EXISTING);
                extractPickle(f, pkl.resolve("seed-" + name.replace('.', '-') + ".pkl"));
            }
        }
    }

    private static void extractPickle(Path torchZip, Path out) throws IOException {
        try (ZipFile zip = new ZipFile(torchZip.toFile())) {
            ZipEntry e = zip.stream().filter(z -> z.getName().endsWith("/data.pkl")).findFirst().orElse(null);
            if (e == null) {
                return; // legacy (non-zip) fixture: the file-level target covers it
            }
            try (InputStream in = zip.getInputStream(e)) {
                Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (java.util.zip.ZipException notZip) {
            // legacy format or a deliberately broken fixture
        }
    }
}

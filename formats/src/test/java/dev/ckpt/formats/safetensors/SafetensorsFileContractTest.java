package dev.ckpt.formats.safetensors;

import dev.ckpt.formats.PlannedTensor;
import dev.ckpt.formats.TensorFile;
import dev.ckpt.formats.TensorFileContract;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

class SafetensorsFileContractTest extends TensorFileContract {
    @Override
    protected Path write(Path dir, List<Sample> samples) throws Exception {
        Path f = dir.resolve("contract.safetensors");
        SafetensorsWriter.write(f, samples.stream().map(s -> new PlannedTensor(s.info(),
                t -> t.copyFrom(MemorySegment.ofArray(s.bytes())))).toList(), Map.of("format", "pt"));
        return f;
    }

    @Override
    protected TensorFile open(Path file) throws Exception {
        return SafetensorsFile.open(file);
    }
}

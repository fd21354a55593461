package dev.ckpt.formats.torch;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.HostileInput;

/**
 * Coverage-guided fuzzing of the torch.save reader (zip archive, legacy format, restricted unpickler, state-dict
 * layout) through files (Jazzer): replays {@code TorchBinOpenFuzzTestInputs/} in a normal test run (seeds = the
 * real PyTorch fixtures); {@code scripts/fuzz.sh} fuzzes. Property: {@link HostileInput#openAndViewAll}.
 */
class TorchBinOpenFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void openAndViewAll(byte[] data) {
        HostileInput.openAndViewAll(data, "fuzz.bin", TorchBinFile::open);
    }
}

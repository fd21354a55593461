package dev.ckpt.formats.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.HostileInput;

/**
 * Coverage-guided fuzzing of the safetensors reader (Jazzer). In a normal test run it replays the committed inputs
 * under {@code src/test/resources/.../SafetensorsOpenFuzzTestInputs/} (seeds and past findings); {@code
 * scripts/fuzz.sh} runs it in fuzzing mode. Property: {@link HostileInput#openAndViewAll}.
 */
class SafetensorsOpenFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void openAndViewAll(byte[] data) {
        HostileInput.openAndViewAll(data, "fuzz.safetensors", SafetensorsFile::open);
    }
}

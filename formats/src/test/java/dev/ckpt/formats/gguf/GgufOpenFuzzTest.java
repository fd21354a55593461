package dev.ckpt.formats.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.HostileInput;

/**
 * Coverage-guided fuzzing of the GGUF reader (Jazzer): replays the committed inputs under {@code
 * GgufOpenFuzzTestInputs/} in a normal test run; {@code scripts/fuzz.sh} fuzzes. Property: {@link
 * HostileInput#openAndViewAll}, and every metadata value can be read.
 */
class GgufOpenFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void openAndViewAll(byte[] data) {
        HostileInput.openAndViewAll(data, "fuzz.gguf", file -> {
            GgufFile g = GgufFile.open(file);
            g.metadata().values().forEach(String::valueOf);
            return g;
        });
    }
}

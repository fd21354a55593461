package dev.ckpt.formats.torch;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ckpt.formats.FormatException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the restricted unpickler and the state-dict layout on in-memory pickles (Jazzer;
 * thousands of times faster per input than going through a zip file): replays {@code PickleFuzzTestInputs/} in a
 * normal test run (seeds = the data.pkl records of the PyTorch fixtures); {@code scripts/fuzz.sh} fuzzes. A pickle
 * either yields a state dict or fails with {@link FormatException} (unsafe globals included); anything else is a
 * finding. Every storage record claims 1 MiB, so tensor views of any offset and stride are checked too.
 */
class PickleFuzzTest {
    private static final Path FILE = Path.of("fuzz.bin");

    @FuzzTest(maxDuration = "60s")
    void unpickleStateDict(byte[] data) {
        StateDictCalls calls = new StateDictCalls(FILE, PickleLimits.DEFAULTS, key -> 1L << 20);
        try {
            Object root = new RestrictedUnpickler(FILE, "archive/data.pkl", MemorySegment.ofArray(data),
                    PickleLimits.DEFAULTS, calls).load();
            StateDictLayout.of(FILE, root, null);
        } catch (FormatException expected) {
            // the one acceptable way to refuse a pickle
        }
    }
}

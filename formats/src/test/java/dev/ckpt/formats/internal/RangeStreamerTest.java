package dev.ckpt.formats.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ckpt.formats.RangeRecipe;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whatever mix of buffered and direct writes the streamer picks, the file holds exactly the recipe's
 * bytes, the recipe sees consecutive aligned ranges, and concurrent neighbouring ranges that share a
 * page do not disturb each other.
 */
class RangeStreamerTest {
    /** Byte {@code i} of a range is a function of (seed, i), so any misplaced or lost chunk shows. */
    private static byte expected(int seed, long i) {
        return (byte) (seed * 131 + i * 7 + (i >>> 12));
    }

    /** A recipe that checks the streamer's calls: consecutive, each starting on an 8-byte multiple. */
    private static final class CheckedRecipe implements RangeRecipe {
        final int seed;
        final AtomicLong next = new AtomicLong();
        final List<String> violations = new ArrayList<>();

        CheckedRecipe(int seed) {
            this.seed = seed;
        }

        @Override
        public synchronized void fillRange(long byteOffset, MemorySegment target) {
            if (byteOffset != next.get() || byteOffset % RANGE_ALIGNMENT != 0) {
                violations.add("range at " + byteOffset + ", expected " + next.get());
            }
            for (long i = 0; i < target.byteSize(); i++) {
                target.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, expected(seed, byteOffset + i));
            }
            next.set(byteOffset + target.byteSize());
        }
    }

    private static boolean directSupported(Path dir) {
        Path probe = dir.resolve("probe");
        try (FileChannel c = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            var buf = java.lang.foreign.Arena.ofAuto().allocate(4096, 4096).asByteBuffer();
            c.write(buf, 0);
            return true;
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    @ParameterizedTest(name = "direct allowed: {0}")
    @ValueSource(booleans = {true, false})
    void fileHoldsExactlyTheRecipesBytes(boolean allowDirect, @org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // Ranges: unaligned start with a direct middle, tiny, larger than one direct chunk,
        // and a start that is not a multiple of 8 (must fall back to buffered writes entirely).
        long[][] ranges = {{8, 3 * 4096 + 1000}, {8 + 3 * 4096 + 1000, 24}, {16_384 + 104, (5L << 20) + 4096 + 16}, {(6L << 20) + 3, 50_000}};
        long fileSize = (6L << 20) + 3 + 50_000 + 777;
        Path file = tmp.resolve("out.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), fileSize - 1);
            try (RangeStreamer s = RangeStreamer.open(file, ch, allowDirect)) {
                List<CompletableFuture<Void>> running = new ArrayList<>();
                List<CheckedRecipe> recipes = new ArrayList<>();
                for (int r = 0; r < ranges.length; r++) {
                    CheckedRecipe recipe = new CheckedRecipe(r + 1);
                    recipes.add(recipe);
                    long[] range = ranges[r];
                    running.add(CompletableFuture.runAsync(() -> {
                        try {
                            s.stream(range[0], range[1], recipe, n -> { });
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }));
                }
                CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
                for (CheckedRecipe recipe : recipes) {
                    assertThat(recipe.violations).isEmpty();
                }
                // Direct writes stay on exactly where the file system takes O_DIRECT (ext4 here and in CI).
                assertThat(s.direct()).isEqualTo(allowDirect && directSupported(tmp));
            }
            ch.force(true);
        }
        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes).hasSize((int) fileSize);
        for (int r = 0; r < ranges.length; r++) {
            for (long i = 0; i < ranges[r][1]; i++) {
                byte b = bytes[(int) (ranges[r][0] + i)];
                if (b != expected(r + 1, i)) {
                    throw new AssertionError("range " + r + " byte " + i + ": " + b + " != " + expected(r + 1, i));
                }
            }
        }
        assertThat(bytes[0]).isZero();
        assertThat(bytes[(int) fileSize - 1]).isZero();
    }
}

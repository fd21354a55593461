package dev.ckpt.hub.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PrefixHasher}: the digest is the file's, whichever mix of memory and read-back produced it. */
class PrefixHasherTest {
    @TempDir
    Path tmp;

    private static final int PIECE = 64 << 10;

    /** Writes each segment in pieces the way FileFetch does: write, offer, advance, wait for a buffer. */
    private static void writeSegment(byte[] data, Parts parts, Parts.Segment s, FileChannel ch, PrefixHasher h,
            BlockingQueue<ByteBuffer> free) throws IOException, InterruptedException {
        while (!s.complete()) {
            ByteBuffer buf = free.take();
            int n = (int) Math.min(PIECE, s.length() - s.done());
            long at = s.start() + s.done();
            buf.clear().put(data, (int) at, n).flip();
            ByteBuffer w = buf.duplicate();
            while (w.hasRemaining()) {
                ch.write(w, at + w.position());
            }
            if (!h.offer(at, buf, free)) {
                free.put(buf);
            }
            parts.advance(s, n);
        }
    }

    private static String sha256(byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }

    private String run(byte[] data, long chunk, int workers) throws Exception {
        Path file = tmp.resolve("f.incomplete");
        Parts parts = Parts.load(file, data.length, chunk);
        ContentHash hash = ContentHash.forEtag(sha256(data), data.length);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            PrefixHasher h = new PrefixHasher(hash, ch, parts);
            List<Parts.Segment> segs = new ArrayList<>(parts.segments());
            AtomicBoolean failed = new AtomicBoolean();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                int first = w;
                threads.add(Thread.ofPlatform().start(() -> {
                    BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(2);
                    free.add(ByteBuffer.allocateDirect(PIECE));
                    free.add(ByteBuffer.allocateDirect(PIECE));
                    try {
                        for (int i = first; i < segs.size(); i += workers) {
                            writeSegment(data, parts, segs.get(i), ch, h, free);
                        }
                    } catch (IOException | InterruptedException e) {
                        failed.set(true);
                    }
                }));
            }
            h.follow(() -> threads.stream().noneMatch(Thread::isAlive), failed::get);
            assertThat(failed).isFalse();
            if (workers == 1) {
                assertThat(h.hashedFromMemory()).isEqualTo(data.length); // one stream: never read back
            }
            return hash.hex();
        }
    }

    @Test
    void oneStreamIsHashedFromMemoryOnly() throws Exception {
        byte[] data = new byte[1_000_003];
        new Random(1).nextBytes(data);
        assertThat(run(data, 0, 1)).isEqualTo(sha256(data));
    }

    @Test
    void rangesWrittenOutOfOrderHashLikeTheWholeFile() throws Exception {
        byte[] data = new byte[3_000_017];
        new Random(2).nextBytes(data);
        assertThat(run(data, 256 << 10, 4)).isEqualTo(sha256(data));
    }

    @Test
    void workersEndingEarlyIsAnError() throws Exception {
        Path file = tmp.resolve("g.incomplete");
        Parts parts = Parts.load(file, 100, 0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            PrefixHasher h = new PrefixHasher(ContentHash.forEtag("0".repeat(64), 100), ch, parts);
            assertThatThrownBy(() -> h.follow(() -> true, () -> false)).isInstanceOf(IOException.class)
                    .hasMessageContaining("before the file was complete");
        }
    }
}

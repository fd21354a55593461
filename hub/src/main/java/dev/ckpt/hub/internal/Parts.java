package dev.ckpt.hub.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Download state of one {@code .incomplete} file: byte segments, each with how much of it is on disk.
 * Persisted in a small sidecar ({@code <incomplete>.parts}) so a later run resumes every segment where
 * it stopped; without a sidecar the file's length is the done prefix (the legacy huggingface_hub scheme).
 * Thread-safe.
 */
public final class Parts {
    private static final String MAGIC = "ckpt-parts 1";

    /** One byte range [start, end) of the file and how many of its bytes are written. */
    public static final class Segment {
        final long start;
        final long end;
        private volatile long done;

        Segment(long start, long end, long done) {
            this.start = start;
            this.end = end;
            this.done = done;
        }

        public long start() {
            return start;
        }

        public long end() {
            return end;
        }

        public long done() {
            return done;
        }

        public long length() {
            return end - start;
        }

        public boolean complete() {
            return done >= end - start;
        }

        void add(long n) {
            done += n; // only the one worker owning this segment writes
        }
    }

    private final Path sidecar;
    private final long size;
    private final List<Segment> segments;

    private Parts(Path sidecar, long size, List<Segment> segments) {
        this.sidecar = sidecar;
        this.size = size;
        this.segments = segments;
    }

    /**
     * Loads the state of {@code incomplete} (sidecar first, else its length as a done prefix) and splits
     * what is left into segments of at most {@code chunkBytes} (or one segment when {@code chunkBytes <= 0}).
     */
    public static Parts load(Path incomplete, long size, long chunkBytes) throws IOException {
        Path sidecar = sidecarOf(incomplete);
        List<Segment> fromSidecar = readSidecar(sidecar, size);
        if (fromSidecar != null && Files.exists(incomplete)) {
            return new Parts(sidecar, size, resplit(fromSidecar, chunkBytes));
        }
        long prefix = Files.exists(incomplete) ? Files.size(incomplete) : 0;
        if (prefix > size) {
            Files.delete(incomplete);
            prefix = 0;
        }
        List<Segment> segs = new ArrayList<>();
        if (prefix > 0) {
            segs.add(new Segment(0, prefix, prefix));
        }
        if (prefix < size) {
            segs.add(new Segment(prefix, size, 0));
        }
        return new Parts(sidecar, size, resplit(segs, chunkBytes));
    }

    /** {@code <incomplete>.parts}. */
    public static Path sidecarOf(Path incomplete) {
        return incomplete.resolveSibling(incomplete.getFileName() + ".parts");
    }

    private static List<Segment> resplit(List<Segment> in, long chunkBytes) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : in) {
            if (chunkBytes <= 0 || s.complete() || s.length() - s.done <= chunkBytes) {
                out.add(s);
                continue;
            }
            if (s.done > 0) {
                out.add(new Segment(s.start, s.start + s.done, s.done));
            }
            for (long a = s.start + s.done; a < s.end; a += chunkBytes) {
                out.add(new Segment(a, Math.min(s.end, a + chunkBytes), 0));
            }
        }
        return out;
    }

    private static List<Segment> readSidecar(Path sidecar, long size) {
        try {
            if (!Files.isRegularFile(sidecar)) {
                return null;
            }
            List<String> lines = Files.readAllLines(sidecar, StandardCharsets.US_ASCII);
            if (lines.isEmpty() || !lines.get(0).equals(MAGIC + " " + size)) {
                return null;
            }
            List<Segment> segs = new ArrayList<>();
            long expect = 0;
            for (String l : lines.subList(1, lines.size())) {
                String[] f = l.trim().split(" ");
                long a = Long.parseLong(f[0]);
                long b = Long.parseLong(f[1]);
                long d = Long.parseLong(f[2]);
                if (a != expect || b < a || d < 0 || d > b - a) {
                    return null;
                }
                segs.add(new Segment(a, b, d));
                expect = b;
            }
            return expect == size ? segs : null;
        } catch (IOException | RuntimeException e) {
            return null; // unreadable sidecar: resume from the file's length instead
        }
    }

    /** Writes the sidecar atomically (temp + rename). */
    public synchronized void persist() throws IOException {
        StringBuilder b = new StringBuilder(MAGIC).append(' ').append(size).append('\n');
        for (Segment s : segments) {
            b.append(s.start).append(' ').append(s.end).append(' ').append(s.done).append('\n');
        }
        Path tmp = sidecar.resolveSibling(sidecar.getFileName() + ".tmp");
        Files.writeString(tmp, b, StandardCharsets.US_ASCII);
        Files.move(tmp, sidecar, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Removes the sidecar (after the file is complete or discarded). */
    public void deleteSidecar() throws IOException {
        Files.deleteIfExists(sidecar);
    }

    public List<Segment> segments() {
        return segments;
    }

    public long size() {
        return size;
    }

    /** Bytes already on disk. */
    public long doneBytes() {
        return segments.stream().mapToLong(Segment::done).sum();
    }

    /** End of the contiguous written prefix: every byte before it is on disk. */
    public long frontier() {
        long f = 0;
        for (Segment s : segments) {
            long d = s.done;
            f = s.start + d;
            if (d < s.length()) {
                return f;
            }
        }
        return f;
    }

    public boolean complete() {
        return segments.stream().allMatch(Segment::complete);
    }

    /** Records {@code n} more bytes written in {@code s}. */
    public void advance(Segment s, long n) {
        s.add(n);
    }
}

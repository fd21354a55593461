package dev.ckpt.formats.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ThreadLocalRandom;

/** Temp siblings, fsync and atomic renames: the "nothing half-written" rule. Not exported API. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** A not-yet-existing hidden sibling of {@code target} (same directory, so rename is atomic). */
    public static Path siblingTemp(Path target) {
        Path abs = target.toAbsolutePath();
        String name = "." + abs.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
        return abs.resolveSibling(name);
    }

    /** Renames atomically (falling back to a plain move only where the file system cannot). */
    public static void moveReplacing(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDirectory(to.toAbsolutePath().getParent());
    }

    /** fsync of a file's content. */
    public static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** fsync of a directory's entries; silently skipped where the platform cannot open directories. */
    public static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Not supported on every OS/file system; the rename itself is still atomic.
        }
    }

    /** Deletes a file or a directory tree; failures are ignored (cleanup after another failure). */
    public static void deleteQuietly(Path path) {
        try {
            deleteTree(path);
        } catch (IOException e) {
            // Best effort: the original failure is what the caller reports.
        }
    }

    /** Deletes a file or a directory tree, without following links. */
    public static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}

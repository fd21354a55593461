package dev.ckpt.tools.gguf;

import dev.ckpt.formats.gguf.GgufFile;
import dev.ckpt.formats.gguf.GgufTensorInfo;
import dev.ckpt.formats.gguf.GgufValue;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Test-only edits of a written mmproj GGUF (rewritten through GgufExport, so the file stays valid GGUF). */
public final class MmprojFiles {
    private MmprojFiles() {
    }

    /** Rewrites {@code file} with tensor {@code name} multiplied by {@code scale} (0 zeroes it). */
    public static void scale(Path file, String name, float scale) throws IOException {
        rewrite(file, name, scale, false, null, Map.of());
    }

    /** Rewrites {@code file} without tensor {@code name}. */
    public static void drop(Path file, String name) throws IOException {
        rewrite(file, name, 1, true, null, Map.of());
    }

    /** Rewrites {@code file} with tensors renamed ({@code names}: old name to new name; others kept). */
    public static void rename(Path file, Map<String, String> names) throws IOException {
        rewrite(file, null, 1, false, null, names);
    }

    /** Rewrites {@code file} with metadata key {@code key} set to {@code value}. */
    public static void setKey(Path file, String key, GgufValue value) throws IOException {
        rewrite(file, null, 1, false, Map.of(key, value), Map.of());
    }

    private static void rewrite(Path file, String name, float scale, boolean drop, Map<String, GgufValue> keys,
                                Map<String, String> names) throws IOException {
        try (GgufFile f = GgufFile.open(file)) {
            Map<String, GgufValue> md = new LinkedHashMap<>(f.metadata());
            if (keys != null) {
                md.putAll(keys);
            }
            List<GgufExport.Entry> entries = new ArrayList<>();
            for (GgufTensorInfo t : f.ggufTensors()) {
                if (drop && t.name().equals(name)) {
                    continue;
                }
                float s = t.name().equals(name) ? scale : 1;
                entries.add(new GgufExport.Entry(names.getOrDefault(t.name(), t.name()), t.type(), t.ne(), () -> scaled(RowSource.ofGguf(t, f.bytes(t.name())), s)));
            }
            GgufExport.write(new GgufExport.Plan(md, entries, List.of()), file, true, 1);
        }
    }

    private static RowSource scaled(RowSource rows, float s) {
        return new RowSource() {
            public long rows() {
                return rows.rows();
            }

            public int rowLength() {
                return rows.rowLength();
            }

            public void read(long row, float[] dst) {
                rows.read(row, dst);
                for (int i = 0; i < rowLength(); i++) {
                    dst[i] *= s;
                }
            }
        };
    }
}

package dev.ckpt.formats.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Hand-assembled pickle opcodes for hostile fixtures, and a torch.save-style zip around them. */
final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static PickleBytes proto2() {
        PickleBytes p = new PickleBytes();
        p.op(0x80).op(2);
        return p;
    }

    PickleBytes op(int b) {
        out.write(b);
        return this;
    }

    PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').le32(b.length);
        out.writeBytes(b);
        return this;
    }

    PickleBytes shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c).op(b.length);
        out.writeBytes(b);
        return this;
    }

    PickleBytes integer(int v) {
        return op('J').le32(v);
    }

    PickleBytes le32(int v) {
        out.write(v & 0xff);
        out.write((v >>> 8) & 0xff);
        out.write((v >>> 16) & 0xff);
        out.write((v >>> 24) & 0xff);
        return this;
    }

    PickleBytes repeat(int n, int... ops) {
        for (int i = 0; i < n; i++) {
            for (int o : ops) {
                op(o);
            }
        }
        return this;
    }

    /** Pushes a zip-format persistent id for storage {@code key} of {@code numel} floats, then BINPERSID. */
    PickleBytes floatStorage(String key, int numel) {
        op('(').str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel).op('t').op('Q');
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** Writes {@code pickle} as {@code archive/data.pkl} plus the given storages ({@code data/0}...). */
    static Path zip(Path file, byte[] pickle, byte[]... storages) throws IOException {
        try (TorchZipWriter zip = new TorchZipWriter(file, false)) {
            zip.add("archive/data.pkl", pickle);
            for (int i = 0; i < storages.length; i++) {
                zip.add("archive/data/" + i, storages[i]);
            }
            zip.add("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
            zip.finish();
        }
        return file;
    }
}

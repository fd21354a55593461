package dev.ckpt.formats.torch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the protocol-2 pickle of a state dict the way CPython's {@code pickle.Pickler} does for
 * {@code torch.save} (reference C2/C3): every str, global, non-empty tuple, dict and reduced object
 * is memoized (BINPUT) in creation order, repeats of the same object are BINGETs, tuples of up to
 * three items use TUPLE1-3, dict items go in batches of 1000 (SETITEMS, or SETITEM for one).
 * Callers pass an identity token for values Python would share (the literal {@code 'storage'} and
 * {@code 'cpu'}, a storage's key string, a class). Not thread-safe; one pickle per instance.
 */
final class TorchPickleEncoder {
    private static final int BATCH = 1000;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<Object, Integer> memo = new HashMap<>();

    byte[] bytes() {
        return out.toByteArray();
    }

    void proto2() {
        out.write(0x80);
        out.write(2);
    }

    void stop() {
        out.write('.');
    }

    void mark() {
        out.write('(');
    }

    void op(int opcode) {
        out.write(opcode);
    }

    /** GLOBAL {@code module.name}, memoized by name (classes and functions are singletons). */
    void global(String module, String name) {
        String id = "global:" + module + "." + name;
        if (getIfMemoized(id)) {
            return;
        }
        out.write('c');
        writeAscii(module + "\n" + name + "\n");
        memoize(id);
    }

    /** A str; {@code identity} decides sharing (pass a fresh Object for a fresh Python str). */
    void str(String s, Object identity) {
        if (getIfMemoized(identity)) {
            return;
        }
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        le32(utf8.length);
        out.writeBytes(utf8);
        memoize(identity);
    }

    /** An int the way save_long picks its opcode: BININT1, BININT2, BININT, else LONG1. */
    void integer(long v) {
        if (v >= 0 && v <= 0xff) {
            out.write('K');
            out.write((int) v);
        } else if (v >= 0 && v <= 0xffff) {
            out.write('M');
            out.write((int) (v & 0xff));
            out.write((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            le32((int) v);
        } else {
            byte[] be = java.math.BigInteger.valueOf(v).toByteArray();
            out.write(0x8a);
            out.write(be.length);
            for (int i = be.length - 1; i >= 0; i--) {
                out.write(be[i]);
            }
        }
    }

    void bool(boolean b) {
        out.write(b ? 0x88 : 0x89);
    }

    /** A fresh tuple of ints (tensor size or stride), memoized unless empty. */
    void intTuple(long[] values) {
        if (values.length == 0) {
            out.write(')');
            return;
        }
        if (values.length > 3) {
            out.write('(');
        }
        for (long v : values) {
            integer(v);
        }
        out.write(values.length > 3 ? 't' : 0x84 + values.length);
        memoize(new Object());
    }

    /** Closes a tuple whose items were written after {@link #mark()} (more than three items). */
    void tupleFromMark() {
        out.write('t');
        memoize(new Object());
    }

    /** {@code OrderedDict()} as save_reduce writes it: GLOBAL, EMPTY_TUPLE, REDUCE, then memoized. */
    void emptyOrderedDict() {
        global("collections", "OrderedDict");
        out.write(')');
        out.write('R');
        memoize(new Object());
    }

    void emptyDict() {
        out.write('}');
        memoize(new Object());
    }

    /** REDUCE and memoize the result, as save_reduce does for an object. */
    void reduce() {
        out.write('R');
        memoize(new Object());
    }

    /** Writes dict items in CPython's batches; each writer emits one key and value. */
    void setItems(List<Runnable> itemWriters) {
        for (int from = 0; from < itemWriters.size(); from += BATCH) {
            List<Runnable> batch = itemWriters.subList(from, Math.min(itemWriters.size(), from + BATCH));
            if (batch.size() == 1) {
                batch.getFirst().run();
                out.write('s');
            } else {
                out.write('(');
                batch.forEach(Runnable::run);
                out.write('u');
            }
        }
    }

    private boolean getIfMemoized(Object identity) {
        Integer index = memo.get(identity);
        if (index == null) {
            return false;
        }
        if (index < 256) {
            out.write('h');
            out.write(index);
        } else {
            out.write('j');
            le32(index);
        }
        return true;
    }

    private void memoize(Object identity) {
        int index = memo.size();
        memo.put(identity, index);
        if (index < 256) {
            out.write('q');
            out.write(index);
        } else {
            out.write('r');
            le32(index);
        }
    }

    private void writeAscii(String s) {
        out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    private void le32(int v) {
        out.write(v & 0xff);
        out.write((v >>> 8) & 0xff);
        out.write((v >>> 16) & 0xff);
        out.write((v >>> 24) & 0xff);
    }
}

package dev.ckpt.formats.torch;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.torch.PyValues.PyDict;
import dev.ckpt.formats.torch.PyValues.PyList;
import dev.ckpt.formats.torch.PyValues.PyNone;
import dev.ckpt.formats.torch.PyValues.PyTuple;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A pickle virtual machine restricted to what {@code torch.save} state dicts use (reference C2):
 * the protocol-2 opcodes plus the few protocol-4 framing and string opcodes, no INST/OBJ, no
 * string-escaped opcodes. Globals resolve only through {@link AllowedGlobal}; anything else throws
 * {@link UnsafePickleException} at the GLOBAL opcode, before any call. Calls (REDUCE, NEWOBJ, BUILD)
 * and persistent ids are delegated to {@link StateDictCalls}, which builds data, never objects with
 * behaviour. Iterative (no recursion) and bounded by {@link PickleLimits}; every structural error
 * is one {@link FormatException} naming the record and byte offset. Single use, not thread-safe.
 */
final class RestrictedUnpickler {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong F64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int MAX_GLOBAL_LINE = 512;

    private final Path file;
    private final String record;
    private final MemorySegment pickle;
    private final PickleLimits limits;
    private final StateDictCalls calls;
    private final List<Object> stack = new ArrayList<>();
    private final int[] marks;
    private int markCount;
    /** Memo slots by index; CPython numbers them 0, 1, 2... so a dense array is exact and compact. */
    private Object[] memo = new Object[64];
    private int memoCount;
    private long pos;
    private long opStart;

    RestrictedUnpickler(Path file, String record, MemorySegment pickle, PickleLimits limits, StateDictCalls calls) {
        this.file = file;
        this.record = record;
        this.pickle = pickle;
        this.limits = limits;
        this.calls = calls;
        this.marks = new int[limits.maxDepth()];
    }

    /** Bytes consumed so far (after {@link #load}: the pickle's length including STOP). */
    long position() {
        return pos;
    }

    /** Runs the pickle to its STOP opcode and returns the value it produced. */
    Object load() throws FormatException {
        while (true) {
            opStart = pos;
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int protocol = u8();
                    if (protocol < 2 || protocol > 5) {
                        throw corrupt("pickle protocol " + protocol + " (torch.save writes 2)");
                    }
                }
                case 0x95 -> need(readLong()); // FRAME: a length hint; the bytes follow inline
                case '.' -> { // STOP
                    if (stack.size() != 1 || markCount != 0) {
                        throw corrupt("STOP with " + stack.size() + " values and " + markCount + " marks left");
                    }
                    return stack.getFirst();
                }
                case '(' -> { // MARK
                    if (markCount == marks.length) {
                        throw limit("nesting depth", limits.maxDepth());
                    }
                    marks[markCount++] = stack.size();
                }
                case 'c' -> push(global(line(), line())); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw corrupt("STACK_GLOBAL needs two str, got " + PyValues.typeName(module) + " and "
                                + PyValues.typeName(name));
                    }
                    push(global(m, n));
                }
                case 'Q' -> push(calls.persistentLoad(pop(), this::corrupt)); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(calls.call(callable, args, this::corrupt));
                }
                case 0x81 -> { // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    push(calls.newObject(cls, args, this::corrupt));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    calls.build(peek(), state, this::corrupt);
                }
                case '}' -> push(new PyDict()); // EMPTY_DICT
                case ']', 0x8f -> push(new PyList()); // EMPTY_LIST, EMPTY_SET (a set is read as a list)
                case ')' -> push(tuple(List.of())); // EMPTY_TUPLE
                case 's' -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    setItem(peek(), key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    if (items.size() % 2 != 0) {
                        throw corrupt("SETITEMS with an odd number of values");
                    }
                    Object dict = peek();
                    for (int i = 0; i < items.size(); i += 2) {
                        setItem(dict, items.get(i), items.get(i + 1));
                    }
                }
                case 'a' -> { // APPEND
                    Object item = pop();
                    append(peek(), item, "APPEND");
                }
                case 'e', 0x90 -> { // APPENDS, ADDITEMS
                    List<Object> items = popMark();
                    Object list = peek();
                    for (Object item : items) {
                        append(list, item, "APPENDS");
                    }
                }
                case 't' -> push(tuple(popMark())); // TUPLE
                case 0x85 -> push(tuple(List.of(pop()))); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop();
                    push(tuple(List.of(pop(), b)));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    push(tuple(List.of(pop(), b, c)));
                }
                case 'N' -> push(PyNone.NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) read(I32, 4)); // BININT
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> push((long) Short.toUnsignedInt(read(U16, 2))); // BININT2
                case 0x8a -> push(long1(u8())); // LONG1
                case 'G' -> push(Double.longBitsToDouble(read(F64_BE, 8))); // BINFLOAT
                case 'X' -> push(utf8(Integer.toUnsignedLong(read(I32, 4)))); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> push(utf8(readLong())); // BINUNICODE8
                case 'U' -> push(new String(bytes(u8()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 'B' -> push(bytes(Integer.toUnsignedLong(read(I32, 4)))); // BINBYTES
                case 'q' -> put(u8()); // BINPUT
                case 'r' -> put(Integer.toUnsignedLong(read(I32, 4))); // LONG_BINPUT
                case 0x94 -> put(memoCount); // MEMOIZE
                case 'h' -> get(u8()); // BINGET
                case 'j' -> get(Integer.toUnsignedLong(read(I32, 4))); // LONG_BINGET
                default -> throw corrupt(String.format("opcode 0x%02x is not used by torch.save state dicts", op));
            }
        }
    }

    private AllowedGlobal global(String module, String name) throws FormatException {
        return AllowedGlobal.lookup(module, name)
                .orElseThrow(() -> new UnsafePickleException(file, PyValues.printable(module + "." + name)));
    }

    private void setItem(Object target, Object key, Object value) throws FormatException {
        if (!(target instanceof PyDict dict)) {
            throw corrupt("SETITEM on a " + PyValues.typeName(target) + ", expected a dict");
        }
        if (!PyValues.isAtom(key)) {
            throw corrupt("dict key of type " + PyValues.typeName(key) + "; state dicts use str keys");
        }
        dict.items.put(key, value);
        dict.depth = checkDepth(Math.max(dict.depth, PyValues.depth(value) + 1));
        dict.weight = checkWeight(dict.weight + 1 + PyValues.weight(value));
    }

    private void append(Object target, Object item, String op) throws FormatException {
        if (!(target instanceof PyList list)) {
            throw corrupt(op + " on a " + PyValues.typeName(target) + ", expected a list");
        }
        list.items.add(item);
        list.depth = checkDepth(Math.max(list.depth, PyValues.depth(item) + 1));
        list.weight = checkWeight(list.weight + PyValues.weight(item));
    }

    private PyTuple tuple(List<Object> items) throws FormatException {
        int depth = 1;
        long weight = 1;
        for (Object item : items) {
            depth = Math.max(depth, PyValues.depth(item) + 1);
            weight = checkWeight(weight + PyValues.weight(item));
        }
        return new PyTuple(List.copyOf(items), checkDepth(depth), weight);
    }

    private int checkDepth(int depth) throws FormatException {
        if (depth > limits.maxDepth()) {
            throw limit("nesting depth", limits.maxDepth());
        }
        return depth;
    }

    private long checkWeight(long weight) throws FormatException {
        if (weight > limits.maxWeight()) {
            throw limit("expanded object count", limits.maxWeight());
        }
        return weight;
    }

    private void put(long index) throws FormatException {
        if (index < 0 || index >= limits.maxMemo()) {
            throw limit("memo size", limits.maxMemo());
        }
        Object top = peek();
        if (index >= memo.length) {
            memo = java.util.Arrays.copyOf(memo, (int) Math.min(limits.maxMemo(), Math.max(index + 1, 2L * memo.length)));
        }
        if (memo[(int) index] == null) {
            memoCount++;
        }
        memo[(int) index] = top;
    }

    private void get(long index) throws FormatException {
        Object value = index >= 0 && index < memo.length ? memo[(int) index] : null;
        if (value == null) {
            throw corrupt("memo index " + index + " was never stored");
        }
        push(value);
    }

    private void push(Object value) throws FormatException {
        if (stack.size() >= limits.maxStack()) {
            throw limit("stack size", limits.maxStack());
        }
        stack.add(value);
    }

    private Object pop() throws FormatException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) {
            throw corrupt("stack underflow");
        }
        return stack.removeLast();
    }

    private Object peek() throws FormatException {
        int floor = markCount == 0 ? 0 : marks[markCount - 1];
        if (stack.size() <= floor) {
            throw corrupt("stack underflow");
        }
        return stack.getLast();
    }

    private List<Object> popMark() throws FormatException {
        if (markCount == 0) {
            throw corrupt("no MARK before a mark-terminated opcode");
        }
        int from = marks[--markCount];
        List<Object> top = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private Object long1(int n) throws FormatException {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger value = new BigInteger(be);
        return value.bitLength() < 64 ? (Object) value.longValue() : value;
    }

    private String line() throws FormatException {
        long start = pos;
        long end = Math.min(pickle.byteSize(), start + MAX_GLOBAL_LINE);
        for (long p = start; p < end; p++) {
            if (pickle.get(ValueLayout.JAVA_BYTE, p) == '\n') {
                String s = decodeUtf8(pickle.asSlice(start, p - start));
                pos = p + 1;
                return s;
            }
        }
        throw corrupt("GLOBAL name is not a newline-terminated line of at most " + MAX_GLOBAL_LINE + " bytes");
    }

    private String utf8(long length) throws FormatException {
        checkString(length);
        need(length);
        String s = decodeUtf8(pickle.asSlice(pos, length));
        pos += length;
        return s;
    }

    private String decodeUtf8(MemorySegment bytes) throws FormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes.asByteBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw corrupt("string is not valid UTF-8");
        }
    }

    private byte[] bytes(long length) throws FormatException {
        checkString(length);
        need(length);
        byte[] b = pickle.asSlice(pos, length).toArray(ValueLayout.JAVA_BYTE);
        pos += length;
        return b;
    }

    private void checkString(long length) throws FormatException {
        if (length < 0 || length > limits.maxStringBytes()) {
            throw limit("string size", limits.maxStringBytes());
        }
    }

    private int u8() throws FormatException {
        need(1);
        return Byte.toUnsignedInt(pickle.get(ValueLayout.JAVA_BYTE, pos++));
    }

    private long readLong() throws FormatException {
        long v = read(I64, 8);
        if (v < 0) {
            throw corrupt("length " + Long.toUnsignedString(v) + " is out of range");
        }
        return v;
    }

    private int read(ValueLayout.OfInt layout, int size) throws FormatException {
        need(size);
        int v = pickle.get(layout, pos);
        pos += size;
        return v;
    }

    private short read(ValueLayout.OfShort layout, int size) throws FormatException {
        need(size);
        short v = pickle.get(layout, pos);
        pos += size;
        return v;
    }

    private long read(ValueLayout.OfLong layout, int size) throws FormatException {
        need(size);
        long v = pickle.get(layout, pos);
        pos += size;
        return v;
    }

    private void need(long n) throws FormatException {
        if (n < 0 || n > pickle.byteSize() - pos) {
            throw new FormatException(file, Kind.TRUNCATED, record + " is truncated: opcode at byte " + opStart
                    + " needs " + n + " more bytes, " + (pickle.byteSize() - pos) + " left");
        }
    }

    /** A structural error at the current opcode, as one line. */
    FormatException corrupt(String message) {
        return new FormatException(file, Kind.INVALID_VALUE, "corrupt pickle in " + record + " at byte " + opStart
                + ": " + message);
    }

    private FormatException limit(String what, long max) {
        return new FormatException(file, Kind.LIMIT_EXCEEDED, "pickle in " + record + " exceeds the " + what
                + " limit of " + max + " at byte " + opStart + "; no tensor state dict needs that (hostile or not a state dict)");
    }


    /** Supplies the "corrupt pickle at the current opcode" error to the call semantics. */
    @FunctionalInterface
    interface Corrupt {
        FormatException at(String message);
    }
}

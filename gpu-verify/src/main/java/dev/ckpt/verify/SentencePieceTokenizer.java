package dev.ckpt.verify;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece {@code tokenizer.model} (the {@code ModelProto} protobuf LLaMA, Vicuna and LLaVA
 * repos ship) and its BPE encoder: normalise (spaces to U+2581, dummy prefix), start from code
 * points, repeatedly merge the adjacent pair whose concatenation is a piece with the highest score
 * (leftmost on ties), then map leftovers to {@code <0xXX>} byte pieces (byte fallback) or unk.
 */
public final class SentencePieceTokenizer implements TextTokenizer {
    static final String SPACE = "\u2581";
    /** sentencepiece_model.proto SentencePiece.Type values. */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    /** One vocabulary entry. */
    public record Piece(String text, float score, int type) {
    }

    private final List<Piece> pieces;
    private final Map<String, Integer> ids = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final boolean addDummyPrefix;
    private final boolean byteFallback;
    private final int unkId;
    private final int bosId;

    /** Builds an encoder over {@code pieces} (index = id); used by tests and by {@link #open}. */
    public SentencePieceTokenizer(List<Piece> pieces, boolean addDummyPrefix, boolean byteFallback, int unkId, int bosId) {
        this.pieces = List.copyOf(pieces);
        this.addDummyPrefix = addDummyPrefix;
        this.byteFallback = byteFallback;
        this.unkId = unkId;
        this.bosId = bosId;
        java.util.Arrays.fill(byteIds, -1);
        for (int i = 0; i < pieces.size(); i++) {
            Piece p = pieces.get(i);
            if (p.type() == BYTE && p.text().length() == 6 && p.text().startsWith("<0x")) {
                byteIds[Integer.parseInt(p.text().substring(3, 5), 16)] = i;
            } else if (p.type() != UNUSED) {
                ids.putIfAbsent(p.text(), i);
            }
        }
    }

    /** @throws FormatException when the file is not a SentencePiece ModelProto */
    public static SentencePieceTokenizer open(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
        } catch (RuntimeException e) {
            throw new FormatException(file, Kind.INVALID_VALUE, "not a SentencePiece model (" + e.getMessage() + ")", e);
        }
    }

    private static SentencePieceTokenizer parse(ByteBuffer in) {
        List<Piece> pieces = new ArrayList<>();
        int unk = 0, bos = 1, modelType = 1;
        boolean dummy = true, byteFallback = false;
        while (in.hasRemaining()) {
            long key = varint(in);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (wire != 2) {
                skip(in, wire);
                continue;
            }
            ByteBuffer msg = sub(in);
            switch (field) {
                case 1 -> pieces.add(piece(msg));
                case 2 -> { // TrainerSpec
                    while (msg.hasRemaining()) {
                        long k = varint(msg);
                        int f = (int) (k >>> 3);
                        int w = (int) (k & 7);
                        if (w == 0 && (f == 3 || f == 35 || f == 40 || f == 41)) {
                            long v = varint(msg);
                            switch (f) {
                                case 3 -> modelType = (int) v;
                                case 35 -> byteFallback = v != 0;
                                case 40 -> unk = (int) v;
                                default -> bos = (int) v;
                            }
                        } else {
                            skip(msg, w);
                        }
                    }
                }
                case 3 -> { // NormalizerSpec
                    while (msg.hasRemaining()) {
                        long k = varint(msg);
                        int w = (int) (k & 7);
                        if ((k >>> 3) == 3 && w == 0) {
                            dummy = varint(msg) != 0;
                        } else {
                            skip(msg, w);
                        }
                    }
                }
                default -> {
                }
            }
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("no pieces");
        }
        if (modelType != 2) {
            throw new IllegalArgumentException("model type " + modelType + " is not BPE (2); unigram models are not supported");
        }
        return new SentencePieceTokenizer(pieces, dummy, byteFallback, unk, bos);
    }

    private static Piece piece(ByteBuffer msg) {
        String text = "";
        float score = 0;
        int type = NORMAL;
        while (msg.hasRemaining()) {
            long k = varint(msg);
            int f = (int) (k >>> 3);
            int w = (int) (k & 7);
            if (f == 1 && w == 2) {
                ByteBuffer s = sub(msg);
                byte[] b = new byte[s.remaining()];
                s.get(b);
                text = new String(b, StandardCharsets.UTF_8);
            } else if (f == 2 && w == 5) {
                score = msg.getFloat();
            } else if (f == 3 && w == 0) {
                type = (int) varint(msg);
            } else {
                skip(msg, w);
            }
        }
        return new Piece(text, score, type);
    }

    private static long varint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("varint too long");
    }

    private static ByteBuffer sub(ByteBuffer in) {
        int len = Math.toIntExact(varint(in));
        ByteBuffer s = in.slice(in.position(), len).order(ByteOrder.LITTLE_ENDIAN);
        in.position(in.position() + len);
        return s;
    }

    private static void skip(ByteBuffer in, int wire) {
        switch (wire) {
            case 0 -> varint(in);
            case 1 -> in.position(in.position() + 8);
            case 2 -> sub(in);
            case 5 -> in.position(in.position() + 4);
            default -> throw new IllegalArgumentException("unsupported wire type " + wire);
        }
    }

    /** The vocabulary, index = id. */
    public List<Piece> pieces() {
        return pieces;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        String norm = text.replace(" ", SPACE);
        if (addDummyPrefix && !norm.isEmpty()) {
            norm = SPACE + norm;
        }
        List<String> symbols = new ArrayList<>();
        norm.codePoints().forEach(cp -> symbols.add(new String(Character.toChars(cp))));
        while (symbols.size() > 1) {
            int best = -1;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer id = ids.get(symbols.get(i) + symbols.get(i + 1));
                if (id != null && pieces.get(id).score() > bestScore) {
                    best = i;
                    bestScore = pieces.get(id).score();
                }
            }
            if (best < 0) {
                break;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        if (addBos) {
            out.add(bosId);
        }
        for (String s : symbols) {
            Integer id = ids.get(s);
            if (id != null) {
                out.add(id);
            } else if (byteFallback) {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    int bid = byteIds[b & 0xff];
                    out.add(bid >= 0 ? bid : unkId);
                }
            } else {
                out.add(unkId);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String decode(int[] tokenIds) {
        StringBuilder text = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : tokenIds) {
            if (id < 0 || id >= pieces.size()) {
                continue;
            }
            Piece p = pieces.get(id);
            if (p.type() == BYTE && p.text().startsWith("<0x")) {
                bytes.write(Integer.parseInt(p.text().substring(3, 5), 16));
                continue;
            }
            flush(bytes, text);
            if (p.type() == CONTROL || p.type() == UNKNOWN && id == unkId && p.text().equals("<unk>")) {
                continue;
            }
            text.append(p.text().replace(SPACE, " "));
        }
        flush(bytes, text);
        return addDummyPrefix && !text.isEmpty() && text.charAt(0) == ' ' ? text.substring(1) : text.toString();
    }

    private static void flush(ByteArrayOutputStream bytes, StringBuilder text) {
        if (bytes.size() > 0) {
            text.append(bytes.toString(StandardCharsets.UTF_8));
            bytes.reset();
        }
    }

    @Override
    public String kind() {
        return "tokenizer.model";
    }

    @Override
    public void close() {
    }
}

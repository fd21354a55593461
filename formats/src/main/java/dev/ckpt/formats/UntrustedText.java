package dev.ckpt.formats;

/** Text taken from a hostile file, made safe to print inside a one-line error message. */
public final class UntrustedText {
    private UntrustedText() {
    }

    /** Control characters (newlines included) become {@code ?}; at most {@code maxCodePoints} are kept, then "...". */
    public static String oneLine(Object text, int maxCodePoints) {
        String s = String.valueOf(text);
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(maxCodePoints).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return s.codePointCount(0, s.length()) > maxCodePoints ? b + "..." : b.toString();
    }
}

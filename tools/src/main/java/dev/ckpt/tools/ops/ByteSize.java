package dev.ckpt.tools.ops;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte quantities as users write them, Hugging Face style: {@code 5GB} is decimal (5×10^9),
 * {@code 5GiB} binary; a bare number is bytes. Also formats sizes for humans.
 */
public final class ByteSize {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]?)(I?)B?");

    private ByteSize() {
    }

    /**
     * Parses {@code 5GB}, {@code 500MB}, {@code 2GiB}, {@code 1024}.
     *
     * @throws IllegalArgumentException when the text is not a positive size
     */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size (examples: 5GB, 500MB, 2GiB, 1048576)");
        }
        int power = m.group(2).isEmpty() ? 0 : "KMGT".indexOf(m.group(2)) + 1;
        double base = m.group(3).isEmpty() ? 1000 : 1024;
        if (!m.group(3).isEmpty() && power == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a size (examples: 5GB, 500MB, 2GiB, 1048576)");
        }
        double value = Double.parseDouble(m.group(1)) * Math.pow(base, power);
        if (value < 1 || value > Long.MAX_VALUE) {
            throw new IllegalArgumentException("size '" + text + "' is out of range");
        }
        return (long) value;
    }

    /** Decimal, 3 significant digits: {@code 1.23 GB}, {@code 512 B}. */
    public static String format(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB", "PB"};
        double v = bytes;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : v >= 10 ? "%.1f %s" : "%.2f %s", v, units[u]);
    }
}

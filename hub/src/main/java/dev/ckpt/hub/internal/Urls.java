package dev.ckpt.hub.internal;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/** Percent-encoding as Python's {@code urllib.parse.quote}, origins, and URLs safe to print. */
public final class Urls {
    private Urls() {
    }

    /** Percent-encodes UTF-8 bytes except ASCII letters, digits, {@code _.-~} and the characters of {@code safe}. */
    public static String quote(String s, String safe) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "_.-~".indexOf(c) >= 0
                    || (c < 128 && safe.indexOf(c) >= 0)) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    /** {@code scheme://host:port} of an absolute URL (default ports made explicit). */
    public static String origin(String url) {
        URI u = URI.create(url);
        int port = u.getPort();
        if (port < 0) {
            port = "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
        }
        return (u.getScheme() + "://" + u.getHost() + ":" + port).toLowerCase(java.util.Locale.ROOT);
    }

    /** The URL without query and fragment (signed CDN URLs carry credentials in the query). */
    public static String printable(String url) {
        int q = url.indexOf('?');
        int h = url.indexOf('#');
        int cut = q < 0 ? h : (h < 0 ? q : Math.min(q, h));
        return cut < 0 ? url : url.substring(0, cut);
    }
}

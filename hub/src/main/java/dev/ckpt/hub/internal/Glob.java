package dev.ckpt.hub.internal;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Include/exclude filtering with Python's {@code fnmatch.fnmatchcase} semantics, as snapshot_download
 * uses them: case-sensitive, {@code *} also matches '/', a pattern ending in '/' gets '*' appended.
 */
public final class Glob {
    private Glob() {
    }

    /** Keeps a path when it matches any include (or includes is empty) and no exclude. */
    public static boolean keep(String path, List<String> includes, List<String> excludes) {
        if (!includes.isEmpty() && includes.stream().noneMatch(p -> matches(p, path))) {
            return false;
        }
        return excludes.stream().noneMatch(p -> matches(p, path));
    }

    /** fnmatchcase(path, pattern). */
    public static boolean matches(String pattern, String path) {
        return compile(pattern).matcher(path).matches();
    }

    static Pattern compile(String pattern) {
        String p = pattern.endsWith("/") ? pattern + "*" : pattern;
        StringBuilder re = new StringBuilder();
        int i = 0;
        int n = p.length();
        while (i < n) {
            char c = p.charAt(i++);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (c == '[') {
                int j = i;
                if (j < n && p.charAt(j) == '!') {
                    j++;
                }
                if (j < n && p.charAt(j) == ']') {
                    j++;
                }
                while (j < n && p.charAt(j) != ']') {
                    j++;
                }
                if (j >= n) {
                    re.append("\\[");
                } else {
                    String set = p.substring(i, j).replace("\\", "\\\\");
                    i = j + 1;
                    if (set.startsWith("!")) {
                        set = "^" + set.substring(1);
                    } else if (set.startsWith("^")) {
                        set = "\\" + set;
                    }
                    re.append('[').append(set).append(']');
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
}

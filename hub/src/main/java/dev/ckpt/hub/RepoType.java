package dev.ckpt.hub;

import java.util.Locale;

/** Kind of Hub repository: decides the URL prefix, the API segment and the cache folder prefix. */
public enum RepoType {
    MODEL("models", ""),
    DATASET("datasets", "datasets/"),
    SPACE("spaces", "spaces/");

    private final String apiSegment;
    private final String urlPrefix;

    RepoType(String apiSegment, String urlPrefix) {
        this.apiSegment = apiSegment;
        this.urlPrefix = urlPrefix;
    }

    /** {@code models}, {@code datasets} or {@code spaces}: the segment after {@code /api/} and the cache folder prefix. */
    public String apiSegment() {
        return apiSegment;
    }

    /** Prefix of resolve URLs: empty for models, {@code datasets/} for datasets. */
    public String urlPrefix() {
        return urlPrefix;
    }

    /** Parses {@code model|dataset|space} (singular or plural, any case). */
    public static RepoType parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        for (RepoType r : values()) {
            if (t.equals(r.apiSegment) || t.equals(r.apiSegment.substring(0, r.apiSegment.length() - 1))) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown repo type '" + text + "' (expected model, dataset or space)");
    }

    /** Inverse of {@link #apiSegment()}, or null. */
    public static RepoType fromApiSegment(String segment) {
        for (RepoType r : values()) {
            if (r.apiSegment.equals(segment)) {
                return r;
            }
        }
        return null;
    }
}

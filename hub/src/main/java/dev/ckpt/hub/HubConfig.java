package dev.ckpt.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where and how to talk to the Hub, resolved the way huggingface_hub resolves it (formats-hub.md A1, A8).
 * {@link #toString()} never prints the token.
 *
 * @param endpoint base URL without trailing slash (HF_ENDPOINT, default https://huggingface.co)
 * @param token bearer token or null (never logged)
 * @param cacheDir hub cache root (HF_HUB_CACHE, else HF_HOME/hub)
 * @param offline no HTTP at all; answer from the cache only (HF_HUB_OFFLINE)
 * @param stallTimeout a connection that delivers no byte for this long is dropped and retried
 * @param retryBaseDelay first back-off wait; doubles per retry up to 8x
 * @param maxRetries retries per request (and per stalled range) before giving up
 */
public record HubConfig(String endpoint, String token, Path cacheDir, boolean offline, Duration stallTimeout,
        Duration retryBaseDelay, int maxRetries) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheDir, "cacheDir");
        Objects.requireNonNull(stallTimeout, "stallTimeout");
        Objects.requireNonNull(retryBaseDelay, "retryBaseDelay");
        while (endpoint.endsWith("/")) {
            endpoint = endpoint.substring(0, endpoint.length() - 1);
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must be >= 0");
        }
    }

    /**
     * Resolves the configuration from environment variables plus explicit overrides (each may be null).
     * Token order: {@code tokenOption}, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, the file HF_TOKEN_PATH (default
     * HF_HOME/token) unless HF_HUB_DISABLE_IMPLICIT_TOKEN is set.
     */
    public static HubConfig resolve(Map<String, String> env, String tokenOption, Path cacheDirOption,
            boolean offlineOption) {
        String endpoint = nonEmpty(env.get("HF_ENDPOINT"));
        if (endpoint == null) {
            endpoint = isTrue(env.get("HUGGINGFACE_CO_STAGING")) ? "https://hub-ci.huggingface.co" : DEFAULT_ENDPOINT;
        }
        Path home = hfHome(env);
        String token = nonEmpty(tokenOption);
        if (token == null && !isTrue(env.get("HF_HUB_DISABLE_IMPLICIT_TOKEN"))) {
            token = nonEmpty(env.get("HF_TOKEN"));
            if (token == null) {
                token = nonEmpty(env.get("HUGGING_FACE_HUB_TOKEN"));
            }
            if (token == null) {
                String tp = nonEmpty(env.get("HF_TOKEN_PATH"));
                token = readTokenFile(tp != null ? Path.of(expand(tp)) : home.resolve("token"));
            }
        }
        Path cache = cacheDirOption;
        if (cache == null) {
            String c = nonEmpty(env.get("HF_HUB_CACHE"));
            if (c == null) {
                c = nonEmpty(env.get("HUGGINGFACE_HUB_CACHE"));
            }
            cache = c != null ? Path.of(expand(c)) : home.resolve("hub");
        }
        boolean offline = offlineOption || isTrue(env.get("HF_HUB_OFFLINE")) || isTrue(env.get("TRANSFORMERS_OFFLINE"));
        return new HubConfig(endpoint, token, cache, offline, Duration.ofSeconds(30), Duration.ofSeconds(1), 5);
    }

    /** HF_HOME, else XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface. */
    public static Path hfHome(Map<String, String> env) {
        String h = nonEmpty(env.get("HF_HOME"));
        if (h != null) {
            return Path.of(expand(h));
        }
        String xdg = nonEmpty(env.get("XDG_CACHE_HOME"));
        Path base = xdg != null ? Path.of(expand(xdg)) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("huggingface");
    }

    public HubConfig withStallTimeout(Duration d) {
        return new HubConfig(endpoint, token, cacheDir, offline, d, retryBaseDelay, maxRetries);
    }

    public HubConfig withRetries(int retries, Duration baseDelay) {
        return new HubConfig(endpoint, token, cacheDir, offline, stallTimeout, baseDelay, retries);
    }

    public HubConfig withOffline(boolean off) {
        return new HubConfig(endpoint, token, cacheDir, off, stallTimeout, retryBaseDelay, maxRetries);
    }

    public HubConfig withToken(String t) {
        return new HubConfig(endpoint, t, cacheDir, offline, stallTimeout, retryBaseDelay, maxRetries);
    }

    /** True when a token will be sent to the endpoint. */
    public boolean hasToken() {
        return token != null;
    }

    @Override
    public String toString() {
        return "HubConfig[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "***") + ", cacheDir="
                + cacheDir + ", offline=" + offline + ", stallTimeout=" + stallTimeout + "]";
    }

    private static String readTokenFile(Path p) {
        try {
            if (!Files.isRegularFile(p)) {
                return null;
            }
            return nonEmpty(Files.readString(p, StandardCharsets.UTF_8).replace("\r", "").replace("\n", "").trim());
        } catch (IOException e) {
            return null; // an unreadable token file means "no token", as in huggingface_hub
        }
    }

    static boolean isTrue(String v) {
        if (v == null) {
            return false;
        }
        String t = v.trim().toUpperCase(Locale.ROOT);
        return t.equals("1") || t.equals("ON") || t.equals("YES") || t.equals("TRUE");
    }

    private static String nonEmpty(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    private static String expand(String p) {
        return p.startsWith("~/") || p.equals("~") ? System.getProperty("user.home") + p.substring(1) : p;
    }
}

package dev.ckpt.hub.internal;

import dev.ckpt.hub.HubException;
import dev.ckpt.hub.HubException.Kind;
import dev.ckpt.hub.RepoId;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Response;

/**
 * Maps an HTTP error answer to a {@link HubException} with an actionable one-line message
 * (huggingface_hub's {@code hf_raise_for_status} order, formats-hub.md A7). Never prints tokens or queries.
 */
public final class HubErrors {
    private static final Pattern RATELIMIT_T = Pattern.compile("t=(\\d+)");

    private HubErrors() {
    }

    /**
     * What a request was about, for messages.
     *
     * @param endpoint hub base URL
     * @param repo the repository
     * @param revision revision asked for, or null
     * @param path file path, or null for repo-level calls
     * @param tokenSent whether an Authorization header went with the request
     */
    public record Context(String endpoint, RepoId repo, String revision, String path, boolean tokenSent) {
        Context forPath(String p) {
            return new Context(endpoint, repo, revision, p, tokenSent);
        }
    }

    /** True for statuses worth retrying: 408, 429, 500, 502, 503, 504. */
    public static boolean retryable(int status) {
        return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }

    /** The exception for a non-success answer (status >= 400). */
    public static HubException of(Response r, Context ctx) {
        int status = r.code();
        String code = r.header("X-Error-Code", "");
        String serverMessage = r.header("X-Error-Message", "");
        String where = ctx.repo().toString();
        String tokenNote = ctx.tokenSent() ? "a token was sent: check that its account can read this repo"
                : "no token was sent: if the repo is private, set HF_TOKEN or pass --token";
        if (code.equals("RevisionNotFound")) {
            return new HubException(Kind.REVISION_NOT_FOUND, status, "revision '" + ctx.revision() + "' not found in "
                    + where + " (check the branch, tag or commit name)");
        }
        if (code.equals("EntryNotFound")) {
            return new HubException(Kind.ENTRY_NOT_FOUND, status, "file '" + ctx.path() + "' not found in " + where
                    + " at revision " + ctx.revision());
        }
        if (code.equals("GatedRepo")) {
            return new HubException(Kind.GATED, status, where + " is gated: request access at " + ctx.endpoint() + "/"
                    + ctx.repo().type().urlPrefix() + ctx.repo().id() + ", then use a token of that account (HF_TOKEN or --token)"
                    + (ctx.tokenSent() ? "; the token sent has no access yet" : "; no token was sent"));
        }
        if (status == 401 && serverMessage.equals("Invalid credentials in Authorization header")) {
            return new HubException(Kind.BAD_TOKEN, status, "the Hub rejected the token (invalid credentials) for " + where
                    + ": check HF_TOKEN / --token / the token file");
        }
        if (code.equals("RepoNotFound") || status == 401 || (status == 404 && ctx.path() == null)) {
            return new HubException(Kind.REPO_NOT_FOUND, status, "repository " + where + " not found or private (HTTP "
                    + status + "; " + tokenNote + ")");
        }
        if (status == 404) {
            return new HubException(Kind.ENTRY_NOT_FOUND, status, "file '" + ctx.path() + "' not found in " + where
                    + " (HTTP 404 from " + Urls.printable(r.request().url().toString()) + ")");
        }
        if (status == 403) {
            return new HubException(Kind.REPO_NOT_FOUND, status, "access to " + where + " forbidden (HTTP 403"
                    + (serverMessage.isEmpty() ? "" : ": " + serverMessage) + "; " + tokenNote + ")");
        }
        if (status == 429) {
            return new HubException(Kind.RATE_LIMITED, status, "rate limited by " + Urls.printable(r.request().url().toString())
                    + " (HTTP 429) after all retries: wait a few minutes, or use a token (logged-in users get higher limits)");
        }
        String what = ctx.path() == null ? where : ctx.path() + " of " + where;
        return new HubException(Kind.SERVER, status, "HTTP " + status + " for " + what + " from "
                + Urls.printable(r.request().url().toString()) + (serverMessage.isEmpty() ? "" : ": " + serverMessage));
    }

    /** The wait a 429/503 asks for (Retry-After seconds or date, or RateLimit t=N), or null. */
    public static Duration retryAfter(Response r) {
        return retryAfter(r::header);
    }

    /** As {@link #retryAfter(Response)}, with the headers given as a lookup by name. */
    public static Duration retryAfter(java.util.function.UnaryOperator<String> header) {
        String ra = header.apply("Retry-After");
        if (ra != null) {
            try {
                return Duration.ofSeconds(Math.max(0, Long.parseLong(ra.trim())));
            } catch (NumberFormatException e) {
                try {
                    ZonedDateTime t = ZonedDateTime.parse(ra.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
                    long ms = Duration.between(ZonedDateTime.now(), t).toMillis();
                    return Duration.ofMillis(Math.max(0, ms));
                } catch (RuntimeException ignored) {
                    return null; // unparsable: fall back to exponential back-off
                }
            }
        }
        String rl = header.apply("RateLimit");
        if (rl != null) {
            Matcher m = RATELIMIT_T.matcher(rl);
            if (m.find()) {
                return Duration.ofSeconds(Long.parseLong(m.group(1)));
            }
        }
        return null;
    }
}

package dev.ckpt.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ckpt.hub.HubException.Kind;
import dev.ckpt.hub.internal.Backoff;
import dev.ckpt.hub.internal.BodyResponse;
import dev.ckpt.hub.internal.HubErrors;
import dev.ckpt.hub.internal.OkBodyResponse;
import dev.ckpt.hub.internal.PlainHttp;
import dev.ckpt.hub.internal.Urls;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.ConnectionPool;
import okhttp3.ConnectionSpec;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Hub HTTP client on OkHttp: revision, tree listing (paginated), file metadata (HEAD) and ranged GETs.
 * Redirects are followed by hand so {@code Authorization} is only ever sent to the endpoint's origin.
 * Thread-safe; close it to release pooled connections.
 */
public final class HubClient implements AutoCloseable {
    private static final Pattern LINK_NEXT = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final String USER_AGENT = "ckpt/0.1.0; hf_hub/compatible; java/" + Runtime.version().feature();
    private static final int MAX_REDIRECTS = 10;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final HubConfig config;
    private final OkHttpClient http;
    private volatile OkHttpClient tls;
    private final ObjectMapper json = new ObjectMapper();
    private final String endpointOrigin;

    /** A client for {@code config}; no request is made until a method is called. */
    public HubClient(HubConfig config) {
        this.config = config;
        this.endpointOrigin = Urls.origin(config.endpoint());
        // A cleartext endpoint (a mirror, `ckpt serve`) gets a client without TLS: building a TLS client parses the
        // JDK trust store (~50 ms of CPU per run). The TLS client is made on the first https URL (a CDN redirect).
        OkHttpClient.Builder b = new OkHttpClient.Builder()
                .followRedirects(false).followSslRedirects(false)
                .connectTimeout(CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .readTimeout(config.stallTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .writeTimeout(config.stallTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .connectionPool(new ConnectionPool(64, 1, TimeUnit.MINUTES));
        boolean cleartext = config.endpoint().regionMatches(true, 0, "http://", 0, 7);
        this.http = cleartext ? b.connectionSpecs(List.of(ConnectionSpec.CLEARTEXT)).build() : b.build();
        this.tls = cleartext ? null : http;
    }

    /** The client for {@code url}: the endpoint's own, or (made once, sharing its pool) one that speaks TLS. */
    private OkHttpClient http(String url) {
        if (tls != null || !url.regionMatches(true, 0, "https://", 0, 8)) {
            return http;
        }
        synchronized (this) {
            if (tls == null) {
                tls = http.newBuilder().connectionSpecs(List.of(ConnectionSpec.MODERN_TLS, ConnectionSpec.CLEARTEXT)).build();
            }
            return tls;
        }
    }

    public HubConfig config() {
        return config;
    }

    /** {@code {endpoint}/{prefix}{repo}/resolve/{quote(rev)}/{quote(path)}}. */
    public String resolveUrl(RepoId repo, String revision, String path) {
        return config.endpoint() + "/" + repo.type().urlPrefix() + repo.id() + "/resolve/" + Urls.quote(revision, "")
                + "/" + Urls.quote(path, "/");
    }

    /** Resolves a branch, tag or commit to its 40-hex commit via {@code /api/{type}s/{repo}/revision/{rev}}. */
    public String resolveCommit(RepoId repo, String revision) throws HubException {
        String url = config.endpoint() + "/api/" + repo.type().apiSegment() + "/" + repo.id() + "/revision/"
                + Urls.quote(revision, "");
        HubErrors.Context ctx = context(repo, revision, null, url);
        try (Response r = execute(get(url).build(), ctx)) {
            JsonNode node = json.readTree(r.body().byteStream());
            String sha = node.path("sha").asText("");
            if (!sha.matches("[0-9a-f]{40}")) {
                throw new HubException(Kind.BAD_RESPONSE, r.code(), "the revision API of " + config.endpoint()
                        + " returned no commit sha for " + repo + "@" + revision + " (is HF_ENDPOINT a Hub?)");
            }
            return sha;
        } catch (HubException e) {
            throw e;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw invalidJson(e, "revision API", repo);
        } catch (IOException e) {
            throw network(e, "reading the revision of " + repo);
        }
    }

    /** Lists every file of the repo at {@code commit} (tree API, recursive, following {@code Link: rel="next"}). */
    public List<RepoFile> listFiles(RepoId repo, String commit) throws HubException {
        String url = config.endpoint() + "/api/" + repo.type().apiSegment() + "/" + repo.id() + "/tree/"
                + Urls.quote(commit, "") + "?recursive=true&expand=false";
        List<RepoFile> files = new ArrayList<>();
        int pages = 0;
        while (url != null) {
            if (++pages > 100_000) {
                throw new HubException(Kind.BAD_RESPONSE, 0, "tree listing of " + repo + " does not end (pagination loop)");
            }
            HubErrors.Context ctx = context(repo, commit, null, url);
            try (Response r = execute(get(url).build(), ctx)) {
                JsonNode arr = json.readTree(r.body().byteStream());
                if (!arr.isArray()) {
                    throw new HubException(Kind.BAD_RESPONSE, r.code(), "tree listing of " + repo + " is not a JSON array");
                }
                for (JsonNode e : arr) {
                    if (!"file".equals(e.path("type").asText())) {
                        continue;
                    }
                    JsonNode lfs = e.get("lfs");
                    String sha = lfs != null && lfs.hasNonNull("oid") ? lfs.get("oid").asText() : null;
                    files.add(new RepoFile(e.path("path").asText(), e.path("size").asLong(), e.path("oid").asText(null), sha));
                }
                url = nextLink(r.header("Link"), url);
            } catch (HubException e) {
                throw e;
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                throw invalidJson(e, "tree API", repo);
            } catch (IOException e) {
                throw network(e, "listing the files of " + repo);
            }
        }
        return files;
    }

    /**
     * HEAD of a file's resolve URL: follows relative redirects (renamed repos), stops at an absolute one
     * (a CDN) and reads X-Repo-Commit, X-Linked-Etag / ETag and X-Linked-Size / Content-Length.
     */
    public FileMetadata fileMetadata(RepoId repo, String revision, String path) throws HubException {
        String url = resolveUrl(repo, revision, path);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HubErrors.Context ctx = context(repo, revision, path, url);
            Request req = builder(url).head().build();
            try (Response r = execute(req, ctx)) {
                String location = r.header("Location");
                if (r.isRedirect() && location != null && !URI.create(location).isAbsolute()) {
                    url = URI.create(url).resolve(location).toString();
                    continue;
                }
                String commit = r.header("X-Repo-Commit");
                String etag = normalizeEtag(r.header("X-Linked-Etag", r.header("ETag")));
                String sizeText = r.header("X-Linked-Size", r.isRedirect() ? null : r.header("Content-Length"));
                if (commit == null || etag == null || sizeText == null) {
                    throw new HubException(Kind.BAD_RESPONSE, r.code(), "HEAD " + Urls.printable(url) + " lacks "
                            + (commit == null ? "X-Repo-Commit" : etag == null ? "ETag" : "a size")
                            + " (not a Hub server, or a proxy strips headers)");
                }
                String target = r.isRedirect() && location != null ? location : url;
                return new FileMetadata(commit, etag, Long.parseLong(sizeText.trim()), target,
                        Urls.origin(target).equals(endpointOrigin));
            } catch (HubException e) {
                throw e;
            } catch (IOException | NumberFormatException e) {
                throw network(e, "reading metadata of " + path + " in " + repo);
            }
        }
        throw new HubException(Kind.BAD_RESPONSE, 0, "too many redirects for " + path + " in " + repo);
    }

    /**
     * GET {@code url} with an optional byte range, following redirects by hand and dropping Authorization
     * on cross-origin hops. The caller closes the response and interprets its status (200/206/416/...).
     *
     * @param fromByte first byte wanted, 0 for the start
     * @param toByteInclusive last byte wanted, or -1 for "to the end"; with fromByte == 0 and -1 no Range is sent
     */
    public Response openRange(String url, boolean sendAuth, long fromByte, long toByteInclusive) throws IOException {
        String current = url;
        boolean auth = sendAuth && Urls.origin(url).equals(endpointOrigin);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            Request.Builder b = auth ? builder(current) : anonymous(current);
            if (fromByte > 0 || toByteInclusive >= 0) {
                b.header("Range", "bytes=" + fromByte + "-" + (toByteInclusive >= 0 ? toByteInclusive : ""));
            }
            Response r = http(current).newCall(b.build()).execute();
            String location = r.header("Location");
            if (!r.isRedirect() || location == null) {
                return r;
            }
            r.close();
            String next = URI.create(current).resolve(location).toString();
            auth = auth && sameOrigin(next, current);
            current = next;
        }
        throw tooManyRedirects(url);
    }

    /**
     * As {@link #openRange}, as a {@link BodyResponse}: cleartext hops go through {@link PlainHttp} (bodies read
     * straight into the caller's buffer), https and proxied ones through OkHttp. Redirects are followed by hand and
     * a hop to another origin drops the token, as in {@link #openRange}.
     */
    public BodyResponse openBody(String url, boolean sendAuth, long fromByte, long toByteInclusive) throws IOException {
        String current = url;
        boolean auth = sendAuth && Urls.origin(url).equals(endpointOrigin);
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            BodyResponse r;
            if (PlainHttp.usable(current)) {
                Map<String, String> h = new LinkedHashMap<>();
                okhttp3.Headers same = anonymous(current).build().headers(); // the very headers OkHttp would send
                for (int i = 0; i < same.size(); i++) {
                    h.put(same.name(i), same.value(i));
                }
                if (auth && config.hasToken()) {
                    h.put("Authorization", authorization());
                }
                if (fromByte > 0 || toByteInclusive >= 0) {
                    h.put("Range", "bytes=" + fromByte + "-" + (toByteInclusive >= 0 ? toByteInclusive : ""));
                }
                r = PlainHttp.get(current, h, CONNECT_TIMEOUT, config.stallTimeout());
            } else {
                return new OkBodyResponse(openRange(current, auth, fromByte, toByteInclusive));
            }
            String location = r.header("Location");
            if (r.code() < 300 || r.code() > 399 || r.code() == 304 || location == null) {
                return r;
            }
            r.close();
            String next = URI.create(current).resolve(location).toString();
            auth = auth && sameOrigin(next, current);
            current = next;
        }
        throw tooManyRedirects(url);
    }

    /** Whether a redirect from {@code from} to {@code to} stays on one origin (else the token is dropped). */
    private static boolean sameOrigin(String to, String from) {
        return Urls.origin(to).equals(Urls.origin(from));
    }

    private static HubException tooManyRedirects(String url) {
        return new HubException(Kind.BAD_RESPONSE, 0, "too many redirects from " + Urls.printable(url));
    }

    /** Message context for an error about {@code url}. */
    public HubErrors.Context context(RepoId repo, String revision, String path, String url) {
        return new HubErrors.Context(config.endpoint(), repo, revision, path,
                config.hasToken() && Urls.origin(url).equals(endpointOrigin));
    }

    @Override
    public void close() {
        http.connectionPool().evictAll();
        http.dispatcher().executorService().shutdown();
    }

    /** Strips a leading W/ and the quotes of an ETag. */
    public static String normalizeEtag(String etag) {
        if (etag == null) {
            return null;
        }
        String e = etag.trim();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        e = e.replace("\"", "");
        return e.isEmpty() ? null : e;
    }

    private Response execute(Request req, HubErrors.Context ctx) throws IOException {
        Backoff backoff = new Backoff(config.retryBaseDelay(), config.maxRetries());
        while (true) {
            Response r;
            try {
                r = http(req.url().toString()).newCall(req).execute();
            } catch (InterruptedIOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                if (!backoff.sleep(null)) {
                    throw network(e, "requesting " + Urls.printable(req.url().toString()));
                }
                continue;
            } catch (java.net.UnknownHostException e) {
                throw network(e, "resolving the host of " + Urls.printable(req.url().toString())); // offline machine: fail fast
            } catch (IOException e) {
                boolean refused = e instanceof java.net.ConnectException;
                if ((refused && backoff.failures() >= 2) || !backoff.sleep(null)) {
                    throw network(e, "requesting " + Urls.printable(req.url().toString()));
                }
                continue;
            }
            if (r.code() < 400 || r.isRedirect()) {
                return r;
            }
            Duration wait = HubErrors.retryAfter(r);
            if (HubErrors.retryable(r.code()) && backoff.sleep(wait)) {
                r.close();
                continue;
            }
            HubException e = HubErrors.of(r, ctx);
            r.close();
            throw e;
        }
    }

    private Request.Builder get(String url) throws HubException {
        return builder(url).get();
    }

    private Request.Builder builder(String url) throws HubException {
        Request.Builder b = anonymous(url);
        if (config.hasToken() && Urls.origin(url).equals(endpointOrigin)) {
            b.header("Authorization", authorization());
        }
        return b;
    }

    /**
     * {@code Bearer <token>}, refused when the token holds a byte no header may carry: OkHttp would throw an
     * unchecked error, and on the cleartext path a CR/LF would add headers of its own. Checked when the token is
     * about to be sent, not when the config is read: commands on local paths never need it. The message names
     * the kind and position of the bad character, never the token.
     */
    private String authorization() throws HubException {
        String t = config.token();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                String what = c == ' ' ? "a space" : c < 0x20 || c == 0x7f ? "a control character (a line break?)"
                        : "a non-ASCII character";
                throw new HubException(Kind.BAD_TOKEN, 0, "the Hub token (--token, HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the"
                        + " token file) has " + what + " at position " + (i + 1) + ", which cannot be sent in an HTTP"
                        + " header; fix the token");
            }
        }
        return "Bearer " + t;
    }

    private static Request.Builder anonymous(String url) {
        return new Request.Builder().url(url).header("User-Agent", USER_AGENT)
                .header("X-Amzn-Trace-Id", UUID.randomUUID().toString()).header("Accept-Encoding", "identity");
    }

    private static String nextLink(String link, String current) {
        if (link == null) {
            return null;
        }
        Matcher m = LINK_NEXT.matcher(link);
        return m.find() ? URI.create(current).resolve(m.group(1)).toString() : null;
    }

    /** A body that is not JSON (a captive portal, a proxy's error page, a truncated answer): one line, exit 4. */
    private HubException invalidJson(com.fasterxml.jackson.core.JacksonException e, String api, RepoId repo) {
        String why = String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ");
        return new HubException(Kind.BAD_RESPONSE, 0, "the " + api + " of " + config.endpoint() + " answered invalid JSON for "
                + repo + " (" + (why.length() > 120 ? why.substring(0, 120) + "..." : why) + "); is HF_ENDPOINT a Hub?");
    }

    static HubException network(Exception e, String doing) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new HubException(Kind.NETWORK, "network error while " + doing + " (" + why
                + "); check the connection or HF_ENDPOINT, or use --offline for cached repos", e);
    }
}

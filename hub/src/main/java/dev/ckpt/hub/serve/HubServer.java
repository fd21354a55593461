package dev.ckpt.hub.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.RepoType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

/**
 * A read-only, Hub-compatible HTTP server over a {@link ModelStore} (JDK {@code com.sun.net.httpserver},
 * one virtual thread per exchange, files streamed from disk). Routes: {@code GET /api/{type}s/{repo}/revision/{rev}},
 * {@code GET /api/{type}s/{repo}/tree/{rev}[/{path}]}, {@code POST /api/{type}s/{repo}/paths-info/{rev}},
 * {@code HEAD|GET /[datasets/]{repo}/resolve/{rev}/{path}} (Range, ETag, X-Repo-Commit, X-Linked-Etag/Size),
 * 404s with the Hub's {@code X-Error-Code}. Close it to stop.
 */
public final class HubServer implements AutoCloseable {
    private static final Set<String> API_ACTIONS = Set.of("revision", "tree", "paths-info");

    /**
     * Server settings.
     *
     * @param host address to bind (127.0.0.1 by default; 0.0.0.0 for a mirror)
     * @param port TCP port, 0 for any free one
     * @param treePageSize entries per tree page before a {@code Link: rel="next"} (the Hub uses 1000)
     * @param bytesPerSecondPerConnection cap on each response body's rate, 0 for none (emulates a CDN's
     *     per-connection limit, for benchmarks of range splitting)
     */
    public record Options(String host, int port, int treePageSize, long bytesPerSecondPerConnection) {
        public Options(String host, int port, int treePageSize) {
            this(host, port, treePageSize, 0);
        }

        public static Options loopback(int port) {
            return new Options("127.0.0.1", port, 1000, 0);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final ApiHandler api;
    private final ResolveHandler resolve;

    private HubServer(ModelStore store, Options options, UnaryOperator<HttpHandler> wrap) throws IOException {
        this.api = new ApiHandler(store, options.treePageSize());
        this.resolve = new ResolveHandler(store, options.bytesPerSecondPerConnection());
        this.server = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 128);
        server.createContext("/", wrap.apply(this::route));
        server.setExecutor(executor);
        server.start();
    }

    /** Starts serving {@code store}; returns once the socket is bound. */
    public static HubServer start(ModelStore store, Options options) throws IOException {
        return new HubServer(store, options, UnaryOperator.identity());
    }

    /** As {@link #start(ModelStore, Options)}, with every exchange passing through {@code wrap} first (tests). */
    public static HubServer start(ModelStore store, Options options, UnaryOperator<HttpHandler> wrap) throws IOException {
        return new HubServer(store, options, wrap);
    }

    /** Convenience: serve model folders and caches on loopback. */
    public static HubServer start(List<Path> modelDirs, List<Path> cacheDirs, int port) throws IOException {
        return start(new ModelStore(modelDirs, cacheDirs), Options.loopback(port));
    }

    /** {@code http://host:port} (what HF_ENDPOINT should be set to). */
    public String baseUrl() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void route(HttpExchange ex) throws IOException {
        try (ex) {
            String raw = ex.getRequestURI().getRawPath();
            List<String> segs = Arrays.stream(raw.split("/")).filter(s -> !s.isEmpty()).toList();
            if (segs.size() >= 4 && segs.getFirst().equals("api") && RepoType.fromApiSegment(segs.get(1)) != null) {
                RepoType type = RepoType.fromApiSegment(segs.get(1));
                int action = indexOf(segs, 3, API_ACTIONS);
                if (action > 0 && action + 1 < segs.size()) {
                    RepoId repo = repo(type, segs.subList(2, action));
                    if (repo != null) {
                        api.handle(ex, segs.get(action), repo, decode(segs.get(action + 1)),
                                decodePath(segs.subList(action + 2, segs.size())));
                        return;
                    }
                }
            } else {
                RepoType type = RepoType.MODEL;
                List<String> rest = segs;
                if (!segs.isEmpty() && (segs.getFirst().equals("datasets") || segs.getFirst().equals("spaces"))) {
                    type = RepoType.fromApiSegment(segs.getFirst());
                    rest = segs.subList(1, segs.size());
                }
                int at = indexOf(rest, 1, Set.of("resolve"));
                if (at > 0 && at <= 2 && at + 2 < rest.size()) {
                    RepoId repo = repo(type, rest.subList(0, at));
                    if (repo != null) {
                        resolve.handle(ex, repo, decode(rest.get(at + 1)), decodePath(rest.subList(at + 2, rest.size())));
                        return;
                    }
                }
            }
            Responses.error(ex, 404, null, "Not Found: " + raw, null);
        }
    }

    private static int indexOf(List<String> segs, int from, Set<String> names) {
        for (int i = from; i < segs.size() && i <= from + 2; i++) {
            if (names.contains(segs.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static RepoId repo(RepoType type, List<String> parts) {
        if (parts.isEmpty() || parts.size() > 2) {
            return null;
        }
        String id = String.join("/", parts.stream().map(HubServer::decode).toList());
        return RepoId.isValid(id) ? new RepoId(type, id) : null;
    }

    static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String decodePath(List<String> segs) {
        return String.join("/", segs.stream().map(HubServer::decode).toList());
    }

    /** Writes status, headers and small bodies. */
    static final class Responses {
        private Responses() {
        }

        static void json(HttpExchange ex, int status, byte[] body) throws IOException {
            ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
            send(ex, status, body);
        }

        static void send(HttpExchange ex, int status, byte[] body) throws IOException {
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.getResponseHeaders().set("Content-Length", Long.toString(body.length));
                ex.sendResponseHeaders(status, -1);
                return;
            }
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        }

        /** A Hub-style error: X-Error-Code, X-Error-Message and {@code {"error": message}}. */
        static void error(HttpExchange ex, int status, String errorCode, String message, String commit) throws IOException {
            if (errorCode != null) {
                ex.getResponseHeaders().set("X-Error-Code", errorCode);
            }
            ex.getResponseHeaders().set("X-Error-Message", message);
            if (commit != null) {
                ex.getResponseHeaders().set("X-Repo-Commit", commit);
            }
            String body = "{\"error\":" + com.fasterxml.jackson.databind.node.TextNode.valueOf(message) + "}";
            json(ex, status, body.getBytes(StandardCharsets.UTF_8));
        }

        static URI self(HttpExchange ex) {
            return ex.getRequestURI();
        }
    }
}

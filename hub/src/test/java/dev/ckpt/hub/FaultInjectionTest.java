package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.ckpt.hub.serve.HubServer;
import dev.ckpt.hub.serve.ModelStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults injected in front of ckpt serve on the weights' GETs: every download ends with the right bytes
 * or a clear error, and the cache never holds a wrong blob. Also: the token never leaks, and
 * Authorization is not sent across origins.
 */
class FaultInjectionTest {
    private static final String TOKEN = "hf_TopSecretToken0123456789";

    /** One scripted misbehaviour for the next matching GET. */
    interface Fault {
        /** Returns true when it fully answered the exchange itself. */
        boolean apply(HttpExchange ex, HttpHandler real) throws IOException;
    }

    @TempDir
    Path tmp;
    Path source;
    HubServer server;
    final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
    final AtomicInteger weightGets = new AtomicInteger();
    final List<String> authHeaders = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch release = new CountDownLatch(1);
    volatile Fault apiFault;

    @BeforeEach
    void start() throws Exception {
        source = Fixtures.tinyRepo(tmp.resolve("models"), 2 * 1024 * 1024 + 5);
        server = start(real -> ex -> {
            authHeaders.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            Fault api = apiFault;
            if (api != null && ex.getRequestURI().getPath().startsWith("/api/") && api.apply(ex, real)) {
                return;
            }
            if (ex.getRequestMethod().equals("GET") && ex.getRequestURI().getPath().endsWith("/model.safetensors")) {
                weightGets.incrementAndGet();
                Fault f = faults.poll();
                if (f != null && f.apply(ex, real)) {
                    return;
                }
            }
            real.handle(ex);
        });
    }

    private HubServer start(UnaryOperator<HttpHandler> wrap) throws IOException {
        return HubServer.start(new ModelStore(List.of(tmp.resolve("models")), List.of()),
                HubServer.Options.loopback(0), wrap);
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.close();
    }

    static Fault status(int code, String retryAfter) {
        return (ex, real) -> {
            if (retryAfter != null) {
                ex.getResponseHeaders().set("Retry-After", retryAfter);
            }
            ex.sendResponseHeaders(code, -1);
            ex.close();
            return true;
        };
    }

    Fault body(FaultyExchange.Mode mode, long after) {
        return (ex, real) -> {
            real.handle(new FaultyExchange(ex, mode, after, release)); // its IOException makes the server drop the connection
            return true;
        };
    }

    private DownloadResult download(Duration stall, String token, List<String> reasons) throws IOException {
        return download(stall, token, reasons, 2);
    }

    private DownloadResult download(Duration stall, String token, List<String> reasons, int connections) throws IOException {
        HubConfig c = Fixtures.config(server.baseUrl(), tmp.resolve("cache"), token).withStallTimeout(stall);
        DownloadListener l = new DownloadListener() {
            @Override
            public void retrying(String path, String reason) {
                reasons.add(reason);
            }
        };
        return new Downloader(new HubClient(c)).download(RepoId.model("acme/tiny"),
                DownloadOptions.defaults().withParallelism(2, connections, 512 * 1024).withFilters(List.of("*.safetensors"), List.of()), l);
    }

    private void assertCorrect(DownloadResult r) throws IOException {
        assertThat(Files.mismatch(r.root().resolve("model.safetensors"), source.resolve("model.safetensors"))).isEqualTo(-1);
        try (var s = Files.list(tmp.resolve("cache/models--acme--tiny/blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList())
                    .containsExactly(Fixtures.sha256(source.resolve("model.safetensors")));
        }
    }

    @Test
    void connectionDroppedMidBodyIsResumed() throws Exception {
        faults.add(body(FaultyExchange.Mode.DROP, 100_000));
        faults.add(body(FaultyExchange.Mode.DROP, 10));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        DownloadResult r = download(Duration.ofSeconds(10), null, reasons);
        assertCorrect(r);
        assertThat(reasons).hasSizeGreaterThanOrEqualTo(2).allMatch(s -> s.contains("resuming"));
    }

    @Test
    void singleStreamResumesAfterDropsAndStillChecksTheHash() throws Exception {
        faults.add(body(FaultyExchange.Mode.DROP, 700_000));
        faults.add(body(FaultyExchange.Mode.DROP, 300_000));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertCorrect(download(Duration.ofSeconds(10), null, reasons, 1));
        assertThat(weightGets.get()).isEqualTo(3);
        faults.add(body(FaultyExchange.Mode.CORRUPT, 1_000_000));
        Files.walk(tmp.resolve("cache")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        assertCorrect(download(Duration.ofSeconds(10), null, reasons, 1));
        assertThat(reasons).anyMatch(s -> s.contains("sha256 mismatch"));
    }

    @Test
    void serverErrorsTwiceThenOk() throws Exception {
        faults.add(status(500, null));
        faults.add(status(503, null));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertCorrect(download(Duration.ofSeconds(10), null, reasons));
        assertThat(reasons).anyMatch(s -> s.contains("HTTP 500")).anyMatch(s -> s.contains("HTTP 503"));
    }

    @Test
    void rateLimitHonoursRetryAfter() throws Exception {
        faults.add(status(429, "1"));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        long t0 = System.nanoTime();
        assertCorrect(download(Duration.ofSeconds(10), null, reasons));
        assertThat(reasons).anyMatch(s -> s.contains("HTTP 429"));
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(1_000_000_000L); // waited as asked
    }

    @Test
    void wrongBytesOnceAreRetriedAndAlwaysAreReportedNeverKept() throws Exception {
        faults.add(body(FaultyExchange.Mode.CORRUPT, 1234));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertCorrect(download(Duration.ofSeconds(10), null, reasons));
        assertThat(reasons).anyMatch(s -> s.contains("sha256 mismatch"));

        Files.walk(tmp.resolve("cache")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        for (int i = 0; i < 50; i++) {
            faults.add(body(FaultyExchange.Mode.CORRUPT, 0));
        }
        assertThatThrownBy(() -> download(Duration.ofSeconds(10), null, new ArrayList<>()))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.INTEGRITY))
                .hasMessageContaining("sha256 mismatch").hasMessageContaining("nothing was kept");
        try (var s = Files.list(tmp.resolve("cache/models--acme--tiny/blobs"))) {
            assertThat(s.toList()).isEmpty();
        }
        assertThat(tmp.resolve("cache/models--acme--tiny/snapshots")).isEmptyDirectory();
    }

    @Test
    void stalledConnectionIsDroppedAndRetried() throws Exception {
        faults.add(body(FaultyExchange.Mode.STALL, 50_000));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertCorrect(download(Duration.ofMillis(300), null, reasons));
        assertThat(reasons).anyMatch(s -> s.contains("stalled"));
    }

    @Test
    void refusedResumeRangeRestartsFromZero() throws Exception {
        faults.add(status(416, null));
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertCorrect(download(Duration.ofSeconds(10), null, reasons));
        assertThat(reasons).anyMatch(s -> s.contains("416"));
    }

    @Test
    void persistentFailureEndsWithAClearErrorThatNeverShowsTheToken() throws Exception {
        for (int i = 0; i < 100; i++) {
            faults.add(status(502, null));
        }
        List<String> reasons = Collections.synchronizedList(new ArrayList<>());
        assertThatThrownBy(() -> download(Duration.ofSeconds(10), TOKEN, reasons))
                .isInstanceOf(HubException.class).hasMessageContaining("HTTP 502")
                .satisfies(e -> assertThat(e.toString()).doesNotContain(TOKEN));
        assertThat(authHeaders).contains("Bearer " + TOKEN); // it was sent, to the endpoint only
        assertThat(String.join("\n", reasons)).doesNotContain(TOKEN);
        assertThat(Fixtures.config(server.baseUrl(), tmp, TOKEN).toString()).doesNotContain(TOKEN);
    }

    @Test
    void gatedAndBadTokenAnswersSayWhatToDo() {
        apiFault = (ex, real) -> {
            ex.getResponseHeaders().set("X-Error-Code", "GatedRepo");
            ex.getResponseHeaders().set("X-Error-Message", "Access to model acme/tiny is restricted.");
            ex.sendResponseHeaders(403, -1);
            ex.close();
            return true;
        };
        assertThatThrownBy(() -> download(Duration.ofSeconds(10), TOKEN, new ArrayList<>()))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.GATED))
                .hasMessageContaining("is gated: request access at " + server.baseUrl() + "/acme/tiny")
                .hasMessageContaining("the token sent has no access yet").message().doesNotContain(TOKEN);
        apiFault = (ex, real) -> {
            ex.getResponseHeaders().set("X-Error-Message", "Invalid credentials in Authorization header");
            ex.sendResponseHeaders(401, -1);
            ex.close();
            return true;
        };
        assertThatThrownBy(() -> download(Duration.ofSeconds(10), TOKEN, new ArrayList<>()))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.BAD_TOKEN))
                .hasMessageContaining("rejected the token").message().doesNotContain(TOKEN);
    }

    /** A hostile tree listing: names that escape the snapshot or carry terminal escapes, and bodies that are not JSON. */
    @Test
    void hostileTreeListingsAreRefusedInOneLineAndWriteNothing() throws Exception {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("[{\"type\":\"file\",\"path\":\"a/../../x.safetensors\",\"size\":1,\"oid\":\"" + "1".repeat(40) + "\"}]",
                "unsafe file name 'a/../../x.safetensors' (a '..' segment)");
        cases.put("[{\"type\":\"file\",\"path\":\"/etc/x.safetensors\",\"size\":1}]", "unsafe file name '/etc/x.safetensors' (not a relative path)");
        cases.put("[{\"type\":\"file\",\"path\":\"a\\nb\\u001b[31m.safetensors\",\"size\":1}]",
                "unsafe file name 'a?b?[31m.safetensors' (control characters)");
        cases.put("[{\"type\":\"file\",\"path\":\"" + "x".repeat(300) + ".safetensors\",\"size\":1}]", "(a name over 255 bytes)");
        cases.put("[{\"type\":\"file\",", "the tree API of " + server.baseUrl() + " answered invalid JSON for acme/tiny");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            apiFault = (ex, real) -> {
                if (!ex.getRequestURI().getPath().contains("/tree/")) {
                    return false;
                }
                byte[] body = c.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
                return true;
            };
            assertThatThrownBy(() -> download(Duration.ofSeconds(10), null, new ArrayList<>()))
                    .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.BAD_RESPONSE))
                    .hasMessageContaining(c.getValue()).message().doesNotContain("\n");
            try (var files = Files.walk(tmp)) {
                assertThat(files.map(Path::toString)).noneMatch(f -> f.endsWith("/x.safetensors") || f.contains("\u001b") || f.contains("xxxxx"));
            }
            assertThat(weightGets.get()).as("nothing downloaded").isZero();
        }
    }

    /** A token no header can carry ends in one line (exit 4) that never shows it, and no header is ever injected. */
    @Test
    void tokensWithLineBreaksOrNonAsciiAreRefusedBeforeAnyRequest() {
        for (String bad : List.of("hf_Secret\nX-Injected: 1", "hf_Secret\r\nX-Injected: 1", "hf_Secr\u00e9t", "hf_Sec ret")) {
            assertThatThrownBy(() -> download(Duration.ofSeconds(10), bad, new ArrayList<>()))
                    .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.BAD_TOKEN))
                    .hasMessageContaining("cannot be sent in an HTTP header").message()
                    .doesNotContain("Secret").doesNotContain("Secr").doesNotContain("\n");
        }
        assertThat(authHeaders).as("no request went out with any of them").isEmpty();
        assertThat(weightGets.get()).isZero();
    }

    @Test
    void crossOriginRedirectDropsAuthorization() throws Exception {
        List<String> cdnAuth = Collections.synchronizedList(new ArrayList<>());
        try (HubServer cdn = start(real -> ex -> {
            cdnAuth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
            real.handle(ex);
        })) {
            faults.clear();
            for (int i = 0; i < 20; i++) {
                faults.add((ex, real) -> {
                    ex.getResponseHeaders().set("Location", cdn.baseUrl() + ex.getRequestURI().getRawPath());
                    ex.sendResponseHeaders(302, -1);
                    ex.close();
                    return true;
                });
            }
            assertCorrect(download(Duration.ofSeconds(10), TOKEN, new ArrayList<>()));
            assertThat(cdnAuth).isNotEmpty().containsOnly("null");
            assertThat(authHeaders).contains("Bearer " + TOKEN);
        }
    }

    @Test
    void headAnsweredWithARedirectToACdnLikeTheHub() throws Exception {
        String commit = new HubClient(Fixtures.config(server.baseUrl(), tmp, null)).resolveCommit(RepoId.model("acme/tiny"), "main");
        String sha = Fixtures.sha256(source.resolve("model.safetensors"));
        List<String> cdnAuth = Collections.synchronizedList(new ArrayList<>());
        try (HubServer cdn = start(real -> ex -> {
            cdnAuth.add(ex.getRequestMethod() + " " + ex.getRequestHeaders().getFirst("Authorization"));
            real.handle(ex);
        })) {
            apiFault = null;
            HubServer hub = server;
            server = start(real -> ex -> {
                if (ex.getRequestMethod().equals("HEAD") && ex.getRequestURI().getPath().endsWith("/model.safetensors")) {
                    ex.getResponseHeaders().set("X-Repo-Commit", commit);
                    ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
                    ex.getResponseHeaders().set("X-Linked-Size", Long.toString(Files.size(source.resolve("model.safetensors"))));
                    ex.getResponseHeaders().set("ETag", "\"not-the-content-hash\"");
                    ex.getResponseHeaders().set("Location", cdn.baseUrl() + ex.getRequestURI().getRawPath() + "?X-Amz-Signature=abc");
                    ex.sendResponseHeaders(302, -1);
                    ex.close();
                    return;
                }
                real.handle(ex);
            });
            try {
                assertCorrect(download(Duration.ofSeconds(10), TOKEN, new ArrayList<>()));
            } finally {
                server.close();
                server = hub;
            }
            assertThat(cdnAuth).isNotEmpty().allMatch(s -> s.startsWith("GET ") && s.endsWith(" null"));
        }
    }
}

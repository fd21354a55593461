package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.hub.serve.HubServer;
import dev.ckpt.hub.serve.ModelStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ckpt download against ckpt serve on loopback: cache layout, re-runs, resume, local dir, offline, errors. */
class DownloadServeTest {
    @TempDir
    Path tmp;
    Path source;
    HubServer server;

    @BeforeEach
    void start() throws Exception {
        source = Fixtures.tinyRepo(tmp.resolve("models"), 3 * 1024 * 1024 + 17);
        server = HubServer.start(new ModelStore(List.of(tmp.resolve("models")), List.of()),
                new HubServer.Options("127.0.0.1", 0, 2)); // page size 2: the listing needs pagination
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private Downloader downloader(Path cache) {
        return new Downloader(new HubClient(Fixtures.config(server.baseUrl(), cache, null)));
    }

    private static DownloadOptions ranged() {
        return DownloadOptions.defaults().withParallelism(4, 4, 512 * 1024);
    }

    @Test
    void downloadsIntoTheHuggingfaceHubCacheLayout() throws Exception {
        Path cache = tmp.resolve("cache");
        DownloadResult r = downloader(cache).download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);

        Path repo = cache.resolve("models--acme--tiny");
        assertThat(Files.readString(repo.resolve("refs/main"))).isEqualTo(r.commit()).hasSize(40);
        assertThat(r.root()).isEqualTo(repo.resolve("snapshots").resolve(r.commit()));
        String sha = Fixtures.sha256(source.resolve("model.safetensors"));
        Path weights = r.root().resolve("model.safetensors");
        assertThat(Files.isSymbolicLink(weights)).isTrue();
        assertThat(Files.readSymbolicLink(weights).toString()).isEqualTo("../../blobs/" + sha);
        assertThat(Files.mismatch(weights, source.resolve("model.safetensors"))).isEqualTo(-1);
        Path vocab = r.root().resolve("tokenizer/vocab.txt");
        assertThat(Files.readSymbolicLink(vocab).toString())
                .isEqualTo("../../../blobs/" + Fixtures.gitSha1(source.resolve("tokenizer/vocab.txt")));
        assertThat(repo.resolve("blobs").resolve(Fixtures.gitSha1(source.resolve("config.json")))).exists();
        assertThat(r.files()).extracting(FileOutcome::path)
                .containsExactly(".gitattributes", "config.json", "model.safetensors", "tokenizer/vocab.txt");
        assertThat(r.downloadedBytes()).isEqualTo(r.totalBytes());
        assertThat(cache.resolve("CACHEDIR.TAG")).exists();
        assertThat(repo.resolve("trees").resolve(r.commit() + ".json")).exists();
        try (var s = Files.list(repo.resolve("blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("incomplete"));
        }

        DownloadResult again = downloader(cache).download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);
        assertThat(again.downloadedBytes()).isZero();
        assertThat(again.files()).allMatch(f -> f.status() == FileOutcome.Status.CACHED);

        DownloadResult byCommit = downloader(cache).download(RepoId.model("acme/tiny"),
                ranged().withRevision(r.commit()), DownloadListener.NONE);
        assertThat(byCommit.fromCacheOnly()).isTrue(); // a fully cached commit needs no request
    }

    @Test
    void resumesFromAPrefixAndFromASidecarOfRanges() throws Exception {
        Path cache = tmp.resolve("cache");
        Path src = source.resolve("model.safetensors");
        String sha = Fixtures.sha256(src);
        byte[] all = Files.readAllBytes(src);
        Path blobs = cache.resolve("models--acme--tiny/blobs");
        Files.createDirectories(blobs);
        Files.write(blobs.resolve(sha + ".incomplete"), java.util.Arrays.copyOf(all, 1_000_000));
        AtomicLong resumed = new AtomicLong();
        DownloadListener l = new DownloadListener() {
            @Override
            public void resumed(String path, long bytes) {
                resumed.addAndGet(bytes);
            }
        };
        DownloadResult r = downloader(cache).download(RepoId.model("acme/tiny"),
                ranged().withFilters(List.of("*.safetensors"), List.of()), l);
        assertThat(resumed.get()).isEqualTo(1_000_000);
        assertThat(r.downloadedBytes()).isEqualTo(all.length - 1_000_000);
        assertThat(Files.mismatch(r.root().resolve("model.safetensors"), src)).isEqualTo(-1);

        // a sidecar says: first range done, second range half done, rest missing (holes are zeros on disk)
        Path cache2 = tmp.resolve("cache2");
        Path blobs2 = cache2.resolve("models--acme--tiny/blobs");
        Files.createDirectories(blobs2);
        byte[] partial = new byte[all.length];
        System.arraycopy(all, 0, partial, 0, 1_500_000);
        Files.write(blobs2.resolve(sha + ".incomplete"), partial);
        Files.writeString(blobs2.resolve(sha + ".incomplete.parts"), "ckpt-parts 1 " + all.length + "\n0 1000000 1000000\n"
                + "1000000 2000000 500000\n2000000 " + all.length + " 0\n", StandardCharsets.US_ASCII);
        DownloadResult r2 = downloader(cache2).download(RepoId.model("acme/tiny"),
                ranged().withFilters(List.of("*.safetensors"), List.of()), DownloadListener.NONE);
        assertThat(r2.downloadedBytes()).isEqualTo(all.length - 1_500_000);
        assertThat(Files.mismatch(r2.root().resolve("model.safetensors"), src)).isEqualTo(-1);
        assertThat(blobs2.resolve(sha + ".incomplete.parts")).doesNotExist();
    }

    @Test
    void localDirWritesPlainFilesAndMetadata() throws Exception {
        Path out = tmp.resolve("out");
        DownloadResult r = downloader(tmp.resolve("cache")).download(RepoId.model("acme/tiny"),
                ranged().withLocalDir(out), DownloadListener.NONE);
        assertThat(Files.isSymbolicLink(out.resolve("model.safetensors"))).isFalse();
        assertThat(Files.mismatch(out.resolve("model.safetensors"), source.resolve("model.safetensors"))).isEqualTo(-1);
        List<String> meta = Files.readAllLines(out.resolve(".cache/huggingface/download/model.safetensors.metadata"));
        assertThat(meta.get(0)).isEqualTo(r.commit());
        assertThat(meta.get(1)).isEqualTo(Fixtures.sha256(source.resolve("model.safetensors")));
        assertThat(out.resolve(".cache/huggingface/.gitignore")).hasContent("*");
        DownloadResult again = downloader(tmp.resolve("cache")).download(RepoId.model("acme/tiny"),
                ranged().withLocalDir(out), DownloadListener.NONE);
        assertThat(again.downloadedBytes()).isZero();
    }

    @Test
    void offlineAnswersFromTheCacheOnly() throws Exception {
        Path cache = tmp.resolve("cache");
        DownloadResult online = downloader(cache).download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);
        server.close();
        HubConfig offline = Fixtures.config("http://127.0.0.1:9", cache, null).withOffline(true);
        DownloadResult r = new Downloader(new HubClient(offline)).download(RepoId.model("acme/tiny"),
                DownloadOptions.defaults(), DownloadListener.NONE);
        assertThat(r.fromCacheOnly()).isTrue();
        assertThat(r.commit()).isEqualTo(online.commit());
        assertThat(r.files()).hasSize(4);
        // not offline, but the server is gone: the cache answers too
        DownloadResult fallback = new Downloader(new HubClient(Fixtures.config("http://127.0.0.1:9", cache, null)
                .withRetries(0, java.time.Duration.ZERO))).download(RepoId.model("acme/tiny"), DownloadOptions.defaults(),
                DownloadListener.NONE);
        assertThat(fallback.fromCacheOnly()).isTrue();
        assertThatThrownBy(() -> new Downloader(new HubClient(offline)).download(RepoId.model("acme/other"),
                DownloadOptions.defaults(), DownloadListener.NONE))
                .isInstanceOf(HubException.class).hasMessageContaining("acme/other@main is not in the cache")
                .hasMessageContaining("offline");
    }

    @Test
    void errorsSayWhatIsMissingAndWhetherATokenWasSent() {
        Path cache = tmp.resolve("cache");
        assertThatThrownBy(() -> downloader(cache).download(RepoId.model("acme/nope"), ranged(), DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.REPO_NOT_FOUND))
                .hasMessageContaining("acme/nope not found or private").hasMessageContaining("no token was sent");
        Downloader withToken = new Downloader(new HubClient(Fixtures.config(server.baseUrl(), cache, "hf_secret")));
        assertThatThrownBy(() -> withToken.download(RepoId.model("acme/nope"), ranged(), DownloadListener.NONE))
                .hasMessageContaining("a token was sent").message().doesNotContain("hf_secret");
        assertThatThrownBy(() -> downloader(cache).download(RepoId.model("acme/tiny"), ranged().withRevision("v9"),
                DownloadListener.NONE))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.REVISION_NOT_FOUND))
                .hasMessageContaining("revision 'v9' not found in acme/tiny");
        HubClient client = new HubClient(Fixtures.config(server.baseUrl(), cache, null));
        assertThatThrownBy(() -> client.fileMetadata(RepoId.model("acme/tiny"), "main", "missing.bin"))
                .isInstanceOfSatisfying(HubException.class, e -> assertThat(e.kind()).isEqualTo(HubException.Kind.ENTRY_NOT_FOUND))
                .hasMessageContaining("file 'missing.bin' not found in acme/tiny");
    }

    @Test
    void aDownloadedCacheCanBeServedAgainAsAMirror() throws Exception {
        Path first = tmp.resolve("cache-a");
        DownloadResult a = downloader(first).download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);
        try (HubServer mirror = HubServer.start(List.of(), List.of(first), 0)) {
            Path second = tmp.resolve("cache-b");
            Downloader d = new Downloader(new HubClient(Fixtures.config(mirror.baseUrl(), second, null)));
            DownloadResult b = d.download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);
            assertThat(b.commit()).isEqualTo(a.commit());
            assertThat(b.files()).extracting(FileOutcome::etag).isEqualTo(a.files().stream().map(FileOutcome::etag).toList());
            assertThat(Files.mismatch(b.root().resolve("model.safetensors"), source.resolve("model.safetensors"))).isEqualTo(-1);
            DownloadResult byCommit = d.download(RepoId.model("acme/tiny"), ranged().withRevision(a.commit())
                    .withLocalDir(tmp.resolve("plain")), DownloadListener.NONE);
            assertThat(byCommit.files()).hasSize(4);
            assertThatThrownBy(() -> d.download(RepoId.model("acme/tiny"), ranged().withRevision("dev"), DownloadListener.NONE))
                    .hasMessageContaining("revision 'dev' not found");
        }
    }

    @Test
    void twoConcurrentDownloadsOfOneRepoBothSucceedWithOneCopy() throws Exception {
        Path cache = tmp.resolve("cache");
        byte[] big = new byte[6 * 1024 * 1024];
        new Random(7).nextBytes(big);
        Files.write(source.resolve("big.bin"), big);
        var a = Thread.ofVirtual().start(() -> run(cache));
        var b = Thread.ofVirtual().start(() -> run(cache));
        a.join();
        b.join();
        try (var s = Files.list(cache.resolve("models--acme--tiny/blobs"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).hasSize(5).noneMatch(n -> n.contains("incomplete"));
        }
        assertThat(failures).isEmpty();
    }

    private final List<Throwable> failures = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    private void run(Path cache) {
        try {
            downloader(cache).download(RepoId.model("acme/tiny"), ranged(), DownloadListener.NONE);
        } catch (Throwable t) {
            failures.add(t);
        }
    }
}

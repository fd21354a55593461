package dev.ckpt.tools.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ckpt.hub.DownloadListener;
import dev.ckpt.hub.DownloadOptions;
import dev.ckpt.hub.HubConfig;
import dev.ckpt.hub.serve.HubServer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourceResolverTest {
    @TempDir
    Path tmp;

    @Test
    void pathsStayPathsAndRepoIdsResolveThroughTheCache() throws Exception {
        Path repo = tmp.resolve("models/acme/tiny");
        Files.createDirectories(repo);
        Files.writeString(repo.resolve("config.json"), "{}");
        try (HubServer server = HubServer.start(List.of(tmp.resolve("models")), List.of(), 0)) {
            HubConfig config = HubConfig.resolve(Map.of("HF_ENDPOINT", server.baseUrl(), "HF_HOME", tmp.resolve("hf").toString()),
                    null, null, false);
            SourceResolver resolver = new SourceResolver(config, DownloadOptions.defaults(), DownloadListener.NONE);
            assertThat(resolver.resolve(repo.toString())).isEqualTo(repo);
            Path snap = resolver.resolve("acme/tiny@main");
            assertThat(snap).startsWith(tmp.resolve("hf/hub/models--acme--tiny/snapshots"));
            assertThat(snap.resolve("config.json")).hasContent("{}");
            assertThatThrownBy(() -> resolver.resolve("no/such/dir")).isInstanceOf(NoSuchFileException.class);
        }
        assertThat(SourceResolver.looksLikeRepoId("org/name@v1")).isTrue();
        assertThat(SourceResolver.looksLikeRepoId("./org/name")).isFalse();
        assertThat(SourceResolver.looksLikeRepoId("a/b/c")).isFalse();
    }
}

package dev.ckpt.tools.demo;

import dev.ckpt.hub.DownloadListener;
import dev.ckpt.hub.DownloadOptions;
import dev.ckpt.hub.DownloadResult;
import dev.ckpt.hub.Downloader;
import dev.ckpt.hub.HubClient;
import dev.ckpt.hub.HubConfig;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.serve.HubServer;
import dev.ckpt.tools.ops.ByteSize;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Publishes the demo model with {@code ckpt serve} on loopback and downloads it back with the hub client into a
 * huggingface_hub cache (ranges, sha256 checks), then checks every file against the source and that a second run
 * transfers nothing. Puts the snapshot folder as artifact {@code downloaded}.
 */
public final class DownloadStep implements DemoStep {
    @Override
    public String name() {
        return "serve + download through the Hub protocol";
    }

    @Override
    public String run(DemoContext ctx) throws Exception {
        Path models = ctx.workDir().resolve("hub-models");
        Path repo = models.resolve("demo/tiny-llama");
        Files.createDirectories(repo);
        try (Stream<Path> s = Files.list(ctx.model())) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.copy(p, repo.resolve(p.getFileName().toString()));
            }
        }
        try (HubServer server = HubServer.start(List.of(models), List.of(), 0)) {
            HubConfig config = HubConfig.resolve(Map.of("HF_ENDPOINT", server.baseUrl()), null,
                    ctx.workDir().resolve("hf-cache"), false);
            DownloadOptions options = DownloadOptions.defaults().withParallelism(4, 4, 64 * 1024);
            DownloadResult first;
            DownloadResult second;
            try (HubClient client = new HubClient(config)) {
                first = new Downloader(client).download(RepoId.model("demo/tiny-llama"), options, DownloadListener.NONE);
                second = new Downloader(client).download(RepoId.model("demo/tiny-llama"), options, DownloadListener.NONE);
            }
            for (var f : first.files()) {
                if (Files.mismatch(first.root().resolve(f.path()), repo.resolve(f.path())) != -1) {
                    throw new IllegalStateException(f.path() + " differs after download");
                }
            }
            if (second.downloadedBytes() != 0) {
                throw new IllegalStateException("second download transferred " + second.downloadedBytes() + " bytes");
            }
            ctx.artifacts().put("downloaded", first.root());
            return String.format("%d files, %s via %s into %s (commit %s); re-run: all cached", first.files().size(),
                    ByteSize.format(first.totalBytes()), server.baseUrl(), "hf-cache/" + RepoId.model("demo/tiny-llama").folderName(),
                    first.commit().substring(0, 12));
        }
    }
}

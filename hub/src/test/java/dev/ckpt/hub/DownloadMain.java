package dev.ckpt.hub;

import java.nio.file.Path;

/** Child-process entry for {@link MultiProcessDownloadTest}: {@code ENDPOINT CACHE REPO}; exit 0 on success. */
public final class DownloadMain {
    private DownloadMain() {
    }

    public static void main(String[] args) throws Exception {
        HubConfig c = Fixtures.config(args[0], Path.of(args[1]), null);
        try (HubClient client = new HubClient(c)) {
            DownloadResult r = new Downloader(client).download(RepoId.model(args[2]),
                    DownloadOptions.defaults().withParallelism(2, 4, 256 * 1024), DownloadListener.NONE);
            System.out.println(r.root());
        }
    }
}

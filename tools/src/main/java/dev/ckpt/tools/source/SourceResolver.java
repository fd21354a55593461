package dev.ckpt.tools.source;

import dev.ckpt.hub.DownloadListener;
import dev.ckpt.hub.DownloadOptions;
import dev.ckpt.hub.DownloadResult;
import dev.ckpt.hub.Downloader;
import dev.ckpt.hub.HubClient;
import dev.ckpt.hub.HubConfig;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.RepoType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Turns the source argument of any ckpt command into a local path, so every command accepts hub ids:
 * <ul>
 *   <li>an existing file or directory is returned as is;</li>
 *   <li>{@code org/name} or {@code org/name@rev} (exactly one '/', a valid repo id) is resolved through the
 *       huggingface_hub cache: the snapshot folder is returned, downloading missing files first (offline
 *       mode and network failures fall back to a complete cached snapshot);</li>
 *   <li>anything else raises {@link NoSuchFileException} (exit code 3).</li>
 * </ul>
 * Usage from a command: {@code Path dir = SourceResolver.fromEnvironment().resolve(source);}.
 * Hub failures raise {@link dev.ckpt.hub.HubException} (exit code 4). Thread-safe.
 */
public final class SourceResolver {
    private final HubConfig config;
    private final DownloadOptions options;
    private final DownloadListener listener;

    /**
     * @param config hub endpoint, token, cache, offline mode
     * @param options download options (revision is taken from the source string; include/exclude apply)
     * @param listener progress of downloads, {@link DownloadListener#NONE} for none
     */
    public SourceResolver(HubConfig config, DownloadOptions options, DownloadListener listener) {
        this.config = Objects.requireNonNull(config, "config");
        this.options = Objects.requireNonNull(options, "options");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /** A resolver configured from HF_* environment variables (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE...). */
    public static SourceResolver fromEnvironment() {
        return new SourceResolver(HubConfig.resolve(System.getenv(), null, null, false), DownloadOptions.defaults(),
                DownloadListener.NONE);
    }

    /** True when {@code source} has the shape of {@code org/name[@rev]} (it may still be a local path). */
    public static boolean looksLikeRepoId(String source) {
        int at = source.indexOf('@');
        String id = at < 0 ? source : source.substring(0, at);
        return id.chars().filter(c -> c == '/').count() == 1 && RepoId.isValid(id) && (at < 0 || at < source.length() - 1);
    }

    /**
     * The local path for {@code source}.
     *
     * @throws NoSuchFileException when it is neither an existing path nor a repo id
     * @throws dev.ckpt.hub.HubException when the repo cannot be resolved or downloaded
     */
    public Path resolve(String source) throws IOException {
        Path local = Path.of(source);
        if (Files.exists(local)) {
            return local;
        }
        if (!looksLikeRepoId(source)) {
            throw new NoSuchFileException(source);
        }
        return download(source).root();
    }

    /** Downloads (or finds in the cache) {@code org/name[@rev]} and returns the full result. */
    public DownloadResult download(String repoWithRevision) throws IOException {
        RepoId.WithRevision r = RepoId.WithRevision.parse(repoWithRevision, RepoType.MODEL);
        DownloadOptions o = r.revision() == null ? options : options.withRevision(r.revision());
        try (HubClient client = new HubClient(config)) {
            return new Downloader(client).download(r.repo(), o, listener);
        }
    }
}

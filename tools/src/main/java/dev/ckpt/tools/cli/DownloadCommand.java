package dev.ckpt.tools.cli;

import dev.ckpt.hub.DownloadOptions;
import dev.ckpt.hub.DownloadResult;
import dev.ckpt.hub.Downloader;
import dev.ckpt.hub.HubClient;
import dev.ckpt.hub.HubConfig;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.RepoType;
import dev.ckpt.tools.ops.ByteSize;
import dev.ckpt.tools.ops.OperationReferences;
import dev.ckpt.verify.SmokeReport;
import dev.ckpt.verify.Verify;
import java.nio.file.Path;
import java.util.Optional;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ckpt download REPO[@REV]}: snapshot into the huggingface_hub cache or a local dir. */
@Command(name = "download", mixinStandardHelpOptions = true,
        description = {"Download a repo from the Hugging Face Hub (or HF_ENDPOINT) into the huggingface_hub cache:",
            "parallel, split into ranges, resumable, sha256-checked. Prints the snapshot path.",
            "Env: HF_ENDPOINT, HF_TOKEN, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE."})
public final class DownloadCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "REPO[@REV]", description = "repo id, e.g. liuhaotian/llava-v1.5-7b or org/name@v1.0")
    String repo;

    @Option(names = "--revision", paramLabel = "REV", description = "branch, tag or commit (default: main)")
    String revision;

    @Option(names = "--repo-type", paramLabel = "TYPE", defaultValue = "model", description = "model, dataset or space")
    String repoType;

    @Option(names = "--include", paramLabel = "GLOB", description = "only files matching (repeatable; fnmatch)")
    List<String> include = new ArrayList<>();

    @Option(names = "--exclude", paramLabel = "GLOB", description = "skip files matching (repeatable)")
    List<String> exclude = new ArrayList<>();

    @Option(names = "--local-dir", paramLabel = "DIR", description = "write plain files here instead of the cache")
    Path localDir;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "hub cache (default HF_HUB_CACHE or HF_HOME/hub)")
    Path cacheDir;

    @Option(names = "--token", paramLabel = "TOKEN", description = "Hub token (default HF_TOKEN, then HF_HOME/token)")
    String token;

    @Option(names = "--jobs", paramLabel = "N", defaultValue = "8", description = "files at once (default 8)")
    int jobs;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "8",
            description = "concurrent ranges per large file; 1 disables splitting (default 8)")
    int connections;

    @Option(names = "--chunk-size", paramLabel = "SIZE", defaultValue = "32MiB", description = "range size (default 32MiB)")
    String chunkSize;

    @Option(names = "--stall-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "drop and resume a connection silent this long (default 30)")
    double stallSeconds;

    @Option(names = "--endpoint", paramLabel = "URL", description = "Hub base URL (default HF_ENDPOINT or https://huggingface.co)")
    String endpoint;

    @Option(names = "--offline", description = "use the cache only (also HF_HUB_OFFLINE=1)")
    boolean offline;

    @Option(names = "--json", description = "print a JSON report instead of text")
    boolean json;

    @picocli.CommandLine.Mixin
    VerifyMixin verify;

    @Override
    public Integer call() throws Exception {
        RepoId.WithRevision target;
        DownloadOptions options;
        try {
            target = RepoId.WithRevision.parse(repo, RepoType.parse(repoType));
            if (revision != null && target.revision() != null && !revision.equals(target.revision())) {
                throw new IllegalArgumentException("revision given twice ('@" + target.revision() + "' and --revision "
                        + revision + ")");
            }
            options = DownloadOptions.defaults().withRevision(revision != null ? revision : target.revision())
                    .withFilters(include, exclude).withLocalDir(localDir)
                    .withParallelism(jobs, connections, ByteSize.parse(chunkSize));
            if (stallSeconds <= 0) {
                throw new IllegalArgumentException("--stall-timeout must be > 0");
            }
        } catch (IllegalArgumentException e) {
            throw new CkptException(ExitCodes.USAGE, e.getMessage());
        }
        java.util.Map<String, String> env = new java.util.HashMap<>(System.getenv());
        if (endpoint != null) {
            env.put("HF_ENDPOINT", endpoint);
        }
        HubConfig config = HubConfig.resolve(env, token, cacheDir, offline)
                .withStallTimeout(Duration.ofMillis((long) (stallSeconds * 1000)));
        DownloadProgress progress = DownloadProgress.forStderr(!json);
        DownloadResult result;
        try (HubClient client = new HubClient(config)) {
            result = new Downloader(client).download(target.repo(), options, progress);
        } finally {
            progress.close();
        }
        Optional<SmokeReport> checked = Optional.empty();
        Optional<String> skipped = Optional.empty();
        if (verify.enabled()) {
            skipped = OperationReferences.whyNotAModel(result.root());
            if (skipped.isEmpty()) {
                checked = verify.run(result.root(), null, Verify.Thresholds.EXACT); // smoke pass: no reference
            }
        }
        var o = spec.commandLine().getOut();
        if (json) {
            DownloadReport.json(result, checked, skipped, o);
        } else {
            skipped.ifPresent(why -> o.println("verification skipped: " + why));
            VerifyMixin.printSummary(checked, o);
            DownloadReport.text(result, o); // the path stays the last line
        }
        VerifyMixin.requirePassed(checked, result.root());
        return ExitCodes.OK;
    }
}

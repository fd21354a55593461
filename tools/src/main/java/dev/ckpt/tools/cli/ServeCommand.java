package dev.ckpt.tools.cli;

import dev.ckpt.hub.serve.HubServer;
import dev.ckpt.hub.serve.ModelStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ckpt serve --models DIR --cache DIR --port P}: a read-only Hub-compatible mirror. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve model folders and/or huggingface_hub caches over a read-only Hub-compatible HTTP API",
            "(revision, tree, paths-info, resolve with Range). Point clients at it with HF_ENDPOINT=http://HOST:PORT.",
            "Runs until interrupted (Ctrl-C)."})
public final class ServeCommand implements Callable<Integer> {
    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--models", paramLabel = "DIR", description = "folder of model folders: DIR/org/name/... (repeatable)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--cache", paramLabel = "DIR", description = "huggingface_hub cache: DIR/models--org--name (repeatable)")
    List<Path> caches = new ArrayList<>();

    @Option(names = "--port", paramLabel = "P", defaultValue = "8080", description = "TCP port, 0 for any (default 8080)")
    int port;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "address to bind (default 127.0.0.1; 0.0.0.0 for a mirror)")
    String host;

    @Option(names = "--throttle-per-connection", paramLabel = "SIZE", hidden = true,
            description = "cap each response at SIZE per second (emulates a CDN's per-connection limit; benchmarks)")
    String throttle;

    @Override
    public Integer call() throws Exception {
        if (models.isEmpty() && caches.isEmpty()) {
            throw new CkptException(ExitCodes.USAGE, "give at least one --models DIR or --cache DIR to serve");
        }
        if (port < 0 || port > 65535) {
            throw new CkptException(ExitCodes.USAGE, "--port must be 0..65535 (0 picks a free port), not " + port);
        }
        for (Path p : concat(models, caches)) {
            if (!Files.isDirectory(p)) {
                throw new CkptException(ExitCodes.BAD_INPUT, p + " is not a directory");
            }
        }
        HubServer server;
        try {
            server = HubServer.start(new ModelStore(models, caches), new HubServer.Options(host, port, 1000,
                    throttle == null ? 0 : dev.ckpt.tools.ops.ByteSize.parse(throttle)));
        } catch (java.net.BindException e) {
            boolean inUse = String.valueOf(e.getMessage()).contains("in use");
            throw new CkptException(ExitCodes.NETWORK, "cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "); " + (inUse ? "pick another --port" : "--host must be an address of this machine"));
        } catch (java.net.SocketException | java.nio.channels.UnresolvedAddressException e) {
            throw new CkptException(ExitCodes.USAGE, "cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "); check --host");
        }
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stop.countDown();
        }));
        var out = spec.commandLine().getOut();
        out.println("ckpt serve: listening on " + server.baseUrl() + " (use HF_ENDPOINT=" + server.baseUrl() + ")");
        out.flush();
        stop.await();
        return ExitCodes.OK;
    }

    private static List<Path> concat(List<Path> a, List<Path> b) {
        List<Path> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}

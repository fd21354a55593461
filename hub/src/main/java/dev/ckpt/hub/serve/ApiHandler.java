package dev.ckpt.hub.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.ckpt.hub.RepoId;
import dev.ckpt.hub.serve.HubServer.Responses;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The JSON APIs: revision (model info), tree (paginated listing) and paths-info. */
final class ApiHandler {
    private final ModelStore store;
    private final int pageSize;
    private final ObjectMapper json = new ObjectMapper();

    ApiHandler(ModelStore store, int pageSize) {
        this.store = store;
        this.pageSize = Math.max(1, pageSize);
    }

    void handle(HttpExchange ex, String action, RepoId repo, String rev, String path) throws IOException {
        boolean post = action.equals("paths-info");
        if (!ex.getRequestMethod().equals(post ? "POST" : "GET") && !(!post && ex.getRequestMethod().equals("HEAD"))) {
            Responses.error(ex, 405, null, "Method not allowed", null);
            return;
        }
        ModelStore.Snapshot snap;
        try {
            snap = store.snapshot(repo, rev);
        } catch (ModelStore.NotFound e) {
            Responses.error(ex, 404, e.errorCode(), e.getMessage(), null);
            return;
        }
        switch (action) {
            case "revision" -> revision(ex, snap);
            case "tree" -> tree(ex, snap, path);
            default -> pathsInfo(ex, snap);
        }
    }

    private void revision(HttpExchange ex, ModelStore.Snapshot snap) throws IOException {
        ObjectNode o = json.createObjectNode();
        o.put("_id", snap.commit().substring(0, 24));
        o.put("id", snap.repo().id());
        o.put("modelId", snap.repo().id());
        int slash = snap.repo().id().indexOf('/');
        if (slash > 0) {
            o.put("author", snap.repo().id().substring(0, slash));
        }
        o.put("sha", snap.commit());
        o.put("private", false);
        o.put("gated", false);
        o.put("disabled", false);
        o.put("downloads", 0);
        o.put("likes", 0);
        o.putArray("tags");
        ArrayNode siblings = o.putArray("siblings");
        for (ServedFile f : snap.files()) {
            ObjectNode s = siblings.addObject();
            s.put("rfilename", f.path());
        }
        Responses.json(ex, 200, json.writeValueAsBytes(o));
    }

    private void tree(HttpExchange ex, ModelStore.Snapshot snap, String path) throws IOException {
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        boolean recursive = "true".equalsIgnoreCase(q.getOrDefault("recursive", "false"));
        String prefix = path.isEmpty() ? "" : path + "/";
        List<ObjectNode> entries = new ArrayList<>();
        Set<String> dirs = new LinkedHashSet<>();
        boolean found = path.isEmpty();
        for (ServedFile f : snap.files()) {
            if (!f.path().startsWith(prefix)) {
                continue;
            }
            found = true;
            String rest = f.path().substring(prefix.length());
            String[] parts = rest.split("/");
            for (int i = 1; i < parts.length && (recursive || i == 1); i++) {
                String dir = prefix + String.join("/", java.util.Arrays.copyOf(parts, i));
                if (dirs.add(dir)) {
                    entries.add(directory(dir));
                }
            }
            if (recursive || parts.length == 1) {
                entries.add(entry(f));
            }
        }
        if (!found) {
            Responses.error(ex, 404, "EntryNotFound", path + " does not exist on \"" + snap.commit() + "\"", snap.commit());
            return;
        }
        entries.sort((a, b) -> a.get("path").asText().compareTo(b.get("path").asText()));
        int cursor = Integer.parseInt(q.getOrDefault("cursor", "0"));
        int end = Math.min(entries.size(), cursor + pageSize);
        ArrayNode page = json.createArrayNode();
        entries.subList(Math.min(cursor, entries.size()), end).forEach(page::add);
        if (end < entries.size()) {
            String raw = ex.getRequestURI().getRawPath() + "?recursive=" + recursive + "&expand=false&cursor=" + end;
            ex.getResponseHeaders().set("Link", "<" + raw + ">; rel=\"next\"");
        }
        Responses.json(ex, 200, json.writeValueAsBytes(page));
    }

    private void pathsInfo(HttpExchange ex, ModelStore.Snapshot snap) throws IOException {
        byte[] body = ex.getRequestBody().readNBytes(1 << 20);
        List<String> paths = new ArrayList<>();
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        if (type != null && type.contains("json")) {
            JsonNode n = json.readTree(body);
            n.path("paths").forEach(p -> paths.add(p.asText()));
        } else {
            for (String kv : new String(body, StandardCharsets.UTF_8).split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0 && URLDecoder.decode(kv.substring(0, eq), StandardCharsets.UTF_8).equals("paths")) {
                    paths.add(URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        ArrayNode out = json.createArrayNode();
        for (String p : paths) {
            var file = snap.file(p);
            if (file.isPresent()) {
                out.add(entry(file.get()));
            } else if (snap.files().stream().anyMatch(f -> f.path().startsWith(p + "/"))) {
                out.add(directory(p));
            }
        }
        Responses.json(ex, 200, json.writeValueAsBytes(out));
    }

    private ObjectNode entry(ServedFile f) {
        ObjectNode e = json.createObjectNode();
        e.put("type", "file");
        e.put("oid", f.gitOid());
        e.put("size", f.size());
        if (f.lfsSha256() != null) {
            ObjectNode lfs = e.putObject("lfs");
            lfs.put("oid", f.lfsSha256());
            lfs.put("size", f.size());
            lfs.put("pointerSize", 134);
        }
        e.put("path", f.path());
        return e;
    }

    private ObjectNode directory(String path) {
        ObjectNode e = json.createObjectNode();
        e.put("type", "directory");
        try {
            e.put("oid", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(path.getBytes(StandardCharsets.UTF_8))));
        } catch (NoSuchAlgorithmException x) {
            throw new IllegalStateException(x);
        }
        e.put("size", 0);
        e.put("path", path);
        return e;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> m = new TreeMap<>();
        if (raw == null) {
            return m;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return m;
    }
}

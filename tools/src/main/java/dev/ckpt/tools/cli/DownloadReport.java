package dev.ckpt.tools.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.hub.DownloadResult;
import dev.ckpt.hub.FileOutcome;
import dev.ckpt.tools.ops.ByteSize;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Locale;

/** Renders a {@link DownloadResult}: a summary (last line = the path) or JSON. Never contains a token. */
final class DownloadReport {
    private DownloadReport() {
    }

    static void text(DownloadResult r, PrintWriter out) {
        double s = Math.max(1e-3, r.elapsed().toNanos() / 1e9);
        long fetched = r.files().stream().filter(f -> f.status() == FileOutcome.Status.DOWNLOADED).count();
        out.printf(Locale.ROOT, "%s@%s -> %s: %d files, %s; %d downloaded (%s in %.1f s, %s/s)%s%n", r.repo(), r.revision(),
                r.commit() == null ? "?" : r.commit().substring(0, Math.min(12, r.commit().length())), r.files().size(),
                ByteSize.format(r.totalBytes()), fetched, ByteSize.format(r.downloadedBytes()), s,
                ByteSize.format((long) (r.downloadedBytes() / s)), r.fromCacheOnly() ? " [from cache only]" : "");
        out.println(r.root().toAbsolutePath());
        out.flush();
    }

    static void json(DownloadResult r, PrintWriter out) throws IOException {
        json(r, java.util.Optional.empty(), java.util.Optional.empty(), out);
    }

    /** JSON with the {@code --verify} report ({@code verification}) or why it was skipped ({@code verification_skipped}). */
    static void json(DownloadResult r, java.util.Optional<dev.ckpt.verify.SmokeReport> verification,
                     java.util.Optional<String> skipped, PrintWriter out) throws IOException {
        ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode o = m.createObjectNode();
        o.put("repo", r.repo().id());
        o.put("repo_type", r.repo().type().apiSegment());
        o.put("revision", r.revision());
        o.put("commit", r.commit());
        o.put("path", r.root().toAbsolutePath().toString());
        o.put("total_bytes", r.totalBytes());
        o.put("downloaded_bytes", r.downloadedBytes());
        o.put("seconds", r.elapsed().toNanos() / 1e9);
        o.put("from_cache_only", r.fromCacheOnly());
        ArrayNode files = o.putArray("files");
        for (FileOutcome f : r.files()) {
            ObjectNode e = files.addObject();
            e.put("path", f.path());
            e.put("size", f.size());
            e.put("etag", f.etag());
            e.put("status", f.status().name().toLowerCase(Locale.ROOT));
        }
        VerifyMixin.addTo(o, verification);
        skipped.ifPresent(why -> o.put("verification_skipped", why));
        out.println(m.writeValueAsString(o));
        out.flush();
    }
}

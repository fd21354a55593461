package dev.ckpt.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.verify.SmokeReport.Check;
import java.util.Locale;

/** Renders a {@link SmokeReport} as JSON, JUnit XML (one testcase per check) or a human summary. */
public final class ReportFormats {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportFormats() {
    }

    /** The report as a JSON object (stable field names, documented in docs/verify.md). */
    public static ObjectNode json(SmokeReport r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("passed", r.passed());
        o.put("model", r.model());
        o.put("architecture", r.architecture());
        o.put("device", r.device());
        o.put("computeType", r.computeType());
        o.put("tensorCount", r.tensorCount());
        o.put("parameterCount", r.parameterCount());
        o.put("loadMillis", r.loadMillis());
        o.put("prefillTokens", r.prefillTokens());
        o.put("prefillTokensPerSecond", r.prefillTokensPerSecond());
        o.put("decodeTokensPerSecond", r.decodeTokensPerSecond());
        o.put("peakRssBytes", r.peakRssBytes());
        r.promptIds().forEach(o.putArray("promptIds")::add);
        r.generatedIds().forEach(o.putArray("generatedIds")::add);
        o.put("generatedText", r.generatedText());
        ArrayNode checks = o.putArray("checks");
        for (Check c : r.checks()) {
            checks.addObject().put("name", c.name()).put("passed", c.passed()).put("detail", c.detail());
        }
        r.comparison().ifPresent(c -> o.putObject("comparison").put("reference", c.reference()).put("positions", c.positions())
                .put("maxAbsLogitDelta", c.maxAbsLogitDelta()).put("top1Agreement", c.top1Agreement())
                .put("meanKl", c.meanKl()).put("maxKl", c.maxKl()));
        return o;
    }

    public static String jsonText(SmokeReport r) {
        try {
            return JSON.writeValueAsString(json(r));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e); // a tree of plain values always renders
        }
    }

    /** JUnit XML: a {@code testsuite} named {@code ckpt-verify} with one {@code testcase} per check. */
    public static String junitXml(SmokeReport r) {
        long failures = r.checks().stream().filter(c -> !c.passed()).count();
        StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        x.append("<testsuite name=\"ckpt-verify\" tests=\"").append(r.checks().size()).append("\" failures=\"")
                .append(failures).append("\" errors=\"0\" time=\"").append(String.format(Locale.ROOT, "%.3f", r.loadMillis() / 1000.0))
                .append("\">\n  <properties>\n");
        prop(x, "model", r.model());
        prop(x, "device", r.device());
        prop(x, "computeType", r.computeType());
        prop(x, "generatedText", r.generatedText());
        x.append("  </properties>\n");
        for (Check c : r.checks()) {
            x.append("  <testcase classname=\"ckpt.verify\" name=\"").append(esc(c.name())).append('"');
            if (c.passed()) {
                x.append("><system-out>").append(esc(c.detail())).append("</system-out></testcase>\n");
            } else {
                x.append("><failure message=\"").append(esc(c.detail())).append("\"/></testcase>\n");
            }
        }
        return x.append("</testsuite>\n").toString();
    }

    private static void prop(StringBuilder x, String name, String value) {
        x.append("    <property name=\"").append(name).append("\" value=\"").append(esc(value)).append("\"/>\n");
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\n' -> b.append("&#10;");
                default -> {
                    if (ch >= 0x20 || ch == '\t') {
                        b.append(ch);
                    }
                }
            }
        }
        return b.toString();
    }

    /** A few human-readable lines for the terminal. */
    public static String summary(SmokeReport r) {
        StringBuilder s = new StringBuilder();
        // architecture, decoded text and check details quote the model's files: one inert line each on the terminal
        s.append(r.passed() ? "PASS " : "FAIL ").append(r.model()).append(" (").append(line(r.architecture())).append(", ")
                .append(r.tensorCount()).append(" tensors, ").append(r.parameterCount()).append(" parameters) on ")
                .append(r.device()).append(" in ").append(r.computeType()).append('\n');
        s.append(String.format(Locale.ROOT, "  load %d ms, prefill %d tokens at %.1f tok/s, decode %.1f tok/s, peak RSS %s%n",
                r.loadMillis(), r.prefillTokens(), r.prefillTokensPerSecond(), r.decodeTokensPerSecond(), mib(r.peakRssBytes())));
        s.append("  generated ").append(r.generatedIds()).append(r.generatedText().isEmpty() ? "" : " \""
                + line(r.generatedText().replace("\n", "\\n")) + "\"").append('\n');
        for (Check c : r.checks()) {
            s.append("  ").append(c.passed() ? "ok   " : "FAIL ").append(c.name()).append(": ").append(line(c.detail())).append('\n');
        }
        return s.toString();
    }

    private static String line(String fromModel) {
        return dev.ckpt.formats.UntrustedText.oneLine(fromModel, 2000);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "unknown" : (bytes >> 20) + " MiB";
    }
}

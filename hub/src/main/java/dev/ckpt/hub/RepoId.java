package dev.ckpt.hub;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A Hub repository: type plus {@code namespace/name} (namespace optional), as validated by
 * huggingface_hub's {@code validate_repo_id}.
 *
 * @param type repository kind
 * @param id {@code org/name} or {@code name}
 */
public record RepoId(RepoType type, String id) {
    private static final Pattern NAME = Pattern.compile("^(\\b[\\w\\-.]+\\b/)?\\b[\\w\\-.]{1,96}\\b$");

    public RepoId {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(id, "id");
        if (!isValid(id)) {
            throw new IllegalArgumentException("not a valid repo id: '" + id
                    + "' (expected org/name: letters, digits, '-', '_', '.'; no '--' or '..')");
        }
    }

    /** True when {@code id} is a syntactically valid repo id. */
    public static boolean isValid(String id) {
        return NAME.matcher(id).matches() && !id.contains("--") && !id.contains("..") && !id.endsWith(".git");
    }

    /** A model repo. */
    public static RepoId model(String id) {
        return new RepoId(RepoType.MODEL, id);
    }

    /** Cache folder name: {@code models--org--name}. */
    public String folderName() {
        return type.apiSegment() + "--" + id.replace("/", "--");
    }

    @Override
    public String toString() {
        return type == RepoType.MODEL ? id : type.apiSegment() + "/" + id;
    }

    /**
     * A repo id with an optional revision, parsed from {@code org/name[@rev]}.
     *
     * @param repo the repository
     * @param revision the revision after '@', or null when none was given
     */
    public record WithRevision(RepoId repo, String revision) {
        /** Parses {@code org/name[@rev]}; throws IllegalArgumentException when the id is not valid. */
        public static WithRevision parse(String text, RepoType type) {
            int at = text.indexOf('@');
            String id = at < 0 ? text : text.substring(0, at);
            String rev = at < 0 ? null : text.substring(at + 1);
            if (rev != null && rev.isEmpty()) {
                throw new IllegalArgumentException("empty revision after '@' in '" + text + "'");
            }
            return new WithRevision(new RepoId(type, id), rev);
        }
    }
}

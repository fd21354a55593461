package dev.ckpt.hub.serve;

import java.nio.file.Path;

/**
 * One file a served repo exposes.
 *
 * @param path repo path ('/'-separated)
 * @param file where its bytes are on disk
 * @param size bytes
 * @param gitOid git blob sha1 as the tree API reports it (of the LFS pointer for LFS files)
 * @param lfsSha256 sha256 of the content for LFS files, else null
 */
public record ServedFile(String path, Path file, long size, String gitOid, String lfsSha256) {
    /** The etag the Hub announces: sha256 for LFS files, git blob sha1 otherwise. */
    public String etag() {
        return lfsSha256 != null ? lfsSha256 : gitOid;
    }
}

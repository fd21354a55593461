package dev.ckpt.hub;

/**
 * One file of a repo listing (tree API entry).
 *
 * @param path path inside the repo, '/'-separated
 * @param size content size in bytes
 * @param blobId git blob sha1 of the file as stored in git (of the LFS pointer for LFS files)
 * @param lfsSha256 sha256 of the content for LFS files, else null
 */
public record RepoFile(String path, long size, String blobId, String lfsSha256) {
    /** The etag the Hub will announce, and so the cache blob name: sha256 for LFS files, git sha1 otherwise. */
    public String etag() {
        return lfsSha256 != null ? lfsSha256 : blobId;
    }

    public boolean isLfs() {
        return lfsSha256 != null;
    }
}

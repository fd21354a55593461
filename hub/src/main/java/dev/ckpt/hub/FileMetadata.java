package dev.ckpt.hub;

/**
 * What a {@code HEAD .../resolve/{rev}/{path}} says about a file (formats-hub.md A2).
 *
 * @param commit X-Repo-Commit
 * @param etag normalized X-Linked-Etag or ETag (no W/, no quotes): the cache blob name
 * @param size X-Linked-Size, else Content-Length of a non-redirect answer
 * @param location URL to GET the bytes from (the redirect target, or the resolve URL)
 * @param sendAuth whether Authorization may be sent to {@code location} (same origin as the endpoint)
 */
public record FileMetadata(String commit, String etag, long size, String location, boolean sendAuth) {
}

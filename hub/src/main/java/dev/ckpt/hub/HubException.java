package dev.ckpt.hub;

import java.io.IOException;

/**
 * A Hub or network failure with a one-line, user-facing message (exit code 4 in the CLI). Messages
 * never contain a token, nor the query string of a URL (signed CDN URLs carry credentials).
 */
public final class HubException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What went wrong; decides whether a cached copy may be used instead. */
    public enum Kind {
        /** Repo gated: the user must request access on the model page. */
        GATED,
        /** 401/404 on a repo: private or missing. */
        REPO_NOT_FOUND,
        /** The token was rejected. */
        BAD_TOKEN,
        /** Revision (branch, tag or commit) does not exist. */
        REVISION_NOT_FOUND,
        /** The file does not exist at that revision. */
        ENTRY_NOT_FOUND,
        /** HTTP 429 beyond the retry budget. */
        RATE_LIMITED,
        /** 5xx or an unexpected status. */
        SERVER,
        /** Connection refused/reset, timeouts, stalls. */
        NETWORK,
        /** Downloaded bytes do not match the expected hash or size. */
        INTEGRITY,
        /** Offline mode and the cache cannot answer. */
        OFFLINE,
        /** The server answered without the headers the protocol needs. */
        BAD_RESPONSE
    }

    private final Kind kind;
    private final int httpStatus;

    public HubException(Kind kind, int httpStatus, String message) {
        super(message);
        this.kind = kind;
        this.httpStatus = httpStatus;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.httpStatus = 0;
    }

    public Kind kind() {
        return kind;
    }

    /** The HTTP status that caused this, or 0. */
    public int httpStatus() {
        return httpStatus;
    }

    /** True for failures where a cached snapshot is a valid answer (network, 5xx, 429, offline). */
    public boolean cacheMayAnswer() {
        return kind == Kind.NETWORK || kind == Kind.SERVER || kind == Kind.RATE_LIMITED || kind == Kind.OFFLINE
                || kind == Kind.BAD_RESPONSE;
    }
}

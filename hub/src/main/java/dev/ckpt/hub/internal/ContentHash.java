package dev.ckpt.hub.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The hash an etag promises: 64 hex = sha256 of the content (LFS), 40 hex = git blob sha1
 * ({@code sha1("blob <size>\0" + content)}), anything else = none (size check only). SHA-256 goes through the
 * system OpenSSL when it loads ({@link OpenSslSha256}), else the JDK. Not thread-safe.
 */
public final class ContentHash {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");
    private final MessageDigest digest;
    private final OpenSslSha256 openssl;
    private final String name;

    private ContentHash(MessageDigest digest, OpenSslSha256 openssl, String name) {
        this.digest = digest;
        this.openssl = openssl;
        this.name = name;
    }

    /** The hash to check for {@code etag}, primed for a file of {@code size} bytes; null when none applies. */
    public static ContentHash forEtag(String etag, long size) {
        try {
            if (SHA256.matcher(etag).matches()) {
                return OpenSslSha256.AVAILABLE ? new ContentHash(null, new OpenSslSha256(), "sha256")
                        : new ContentHash(MessageDigest.getInstance("SHA-256"), null, "sha256");
            }
            if (SHA1.matcher(etag).matches()) {
                MessageDigest md = MessageDigest.getInstance("SHA-1");
                md.update(("blob " + size + "\0").getBytes(StandardCharsets.US_ASCII));
                return new ContentHash(md, null, "git-sha1");
            }
            return null;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Hashes (and consumes) the remaining bytes of {@code b}. */
    public void update(ByteBuffer b) {
        if (openssl != null) {
            openssl.update(b);
        } else {
            digest.update(b);
        }
    }

    public void update(byte[] b, int off, int len) {
        if (openssl != null) {
            openssl.update(b, off, len);
        } else {
            digest.update(b, off, len);
        }
    }

    /** Lower-case hex digest (ends this hash). */
    public String hex() {
        return openssl != null ? openssl.hex() : HexFormat.of().formatHex(digest.digest());
    }

    /** {@code sha256} or {@code git-sha1}. */
    public String name() {
        return name;
    }
}

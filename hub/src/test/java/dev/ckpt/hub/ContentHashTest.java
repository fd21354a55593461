package dev.ckpt.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The sha256 used to check LFS files (OpenSSL when it loads, else the JDK) agrees with the JDK's digest. */
class ContentHashTest {
    @Test
    void sha256AgreesWithTheJdkForHeapAndDirectBuffers() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 7];
        new Random(1).nextBytes(data);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        var h = dev.ckpt.hub.internal.ContentHash.forEtag(expected, data.length);
        ByteBuffer direct = ByteBuffer.allocateDirect(1 << 20);
        int pos = 0;
        for (; pos + 1_000_000 < data.length; pos += 1_000_000) {
            direct.clear();
            direct.put(data, pos, 1_000_000).flip();
            h.update(direct);
            assertThat(direct.hasRemaining()).isFalse();
        }
        h.update(data, pos, data.length - pos);
        assertThat(h.hex()).isEqualTo(expected);
        var git = dev.ckpt.hub.internal.ContentHash.forEtag("0".repeat(40), 3);
        git.update("abc".getBytes(), 0, 3);
        assertThat(git.hex()).isEqualTo("f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f"); // git hash-object of "abc"
    }
}

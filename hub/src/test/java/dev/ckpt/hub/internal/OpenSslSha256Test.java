package dev.ckpt.hub.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class OpenSslSha256Test {
    @Test
    void loadsWhereTheSystemHasLibcrypto() {
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")), "no libcrypto.so.3 here");
        assertThat(OpenSslSha256.AVAILABLE).as("OpenSSL SHA-256 should load (self-test of 'abc')").isTrue();
        OpenSslSha256 h = new OpenSslSha256();
        h.update(new byte[0], 0, 0);
        assertThat(h.hex()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

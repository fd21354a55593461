package dev.ckpt.verify;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;

class DjlProbeTest {
    @Test
    void engineLoadsOffline() {
        try (NDManager m = NDManager.newBaseManager()) {
            var a = m.create(new float[] {1, 2, 3});
            assertThat(a.sum().getFloat()).isEqualTo(6f);
        }
    }
}

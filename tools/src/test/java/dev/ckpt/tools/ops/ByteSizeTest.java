package dev.ckpt.tools.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizeTest {
    @Test
    void parsesDecimalAndBinary() {
        assertThat(ByteSize.parse("5GB")).isEqualTo(5_000_000_000L);
        assertThat(ByteSize.parse("500MB")).isEqualTo(500_000_000L);
        assertThat(ByteSize.parse("2GiB")).isEqualTo(2L << 30);
        assertThat(ByteSize.parse("1.5kb")).isEqualTo(1500);
        assertThat(ByteSize.parse("1048576")).isEqualTo(1048576);
        assertThatThrownBy(() -> ByteSize.parse("0")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ByteSize.parse("5 parsecs")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ByteSize.parse("3iB")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void formats() {
        assertThat(ByteSize.format(512)).isEqualTo("512 B");
        assertThat(ByteSize.format(1_234_567)).isEqualTo("1.23 MB");
        assertThat(ByteSize.format(5_000_000_000L)).isEqualTo("5.00 GB");
    }
}

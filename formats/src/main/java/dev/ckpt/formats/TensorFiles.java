package dev.ckpt.formats;

import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.safetensors.SafetensorsFile;
import dev.ckpt.formats.torch.TorchBinFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Opens any supported tensor container, dispatching on its file type. Each format adds one
 * {@link Format} constant and one line in {@link #open}.
 */
public final class TensorFiles {
    private TensorFiles() {
    }

    /** Tensor container formats, in order of preference when a directory holds several. */
    public enum Format {
        SAFETENSORS(".safetensors"), TORCH(".bin", ".pt", ".pth"), GGUF(".gguf");

        private final String[] suffixes;

        Format(String... suffixes) {
            this.suffixes = suffixes;
        }

        boolean matches(String lowerName) {
            for (String s : suffixes) {
                if (lowerName.endsWith(s)) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The format a file name announces, if any (index files and others are not tensor files).
     * Trainer state saved next to weights ({@code training_args.bin}, {@code optimizer.pt},
     * {@code scheduler.pt}, {@code rng_state*.pth}, {@code scaler.pt}) is not a weight file: it is
     * pickled Python objects, kept as a side file and never unpickled.
     */
    public static Optional<Format> formatOf(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.equals("training_args.bin") || name.equals("optimizer.pt") || name.equals("scheduler.pt")
                || name.equals("scaler.pt") || (name.startsWith("rng_state") && name.endsWith(".pth"))) {
            return Optional.empty();
        }
        for (Format f : Format.values()) {
            if (f.matches(name)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * Opens and validates a tensor file; the caller closes it.
     *
     * @throws FormatException for an unknown or not yet supported format, or a malformed file
     */
    public static TensorFile open(Path file) throws IOException {
        Format format = formatOf(file).orElseThrow(() -> new FormatException(file, Kind.UNSUPPORTED,
                "not a tensor file (expected .safetensors, .bin or .gguf)"));
        return switch (format) {
            case SAFETENSORS -> SafetensorsFile.open(file);
            case TORCH -> TorchBinFile.open(file);
            case GGUF -> dev.ckpt.formats.gguf.GgufFile.open(file);
        };
    }
}

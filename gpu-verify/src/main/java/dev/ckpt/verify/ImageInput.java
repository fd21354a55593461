package dev.ckpt.verify;

import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * LLaVA-1.5 image preprocessing ({@code mm_utils.process_images} with {@code image_aspect_ratio
 * = "pad"}, then {@code CLIPImageProcessor}): pad to a square filled with the mean colour, resize
 * (bicubic) to the tower's size, scale to [0,1] and normalise with the CLIP mean and std.
 * Java2D's bicubic filter is close to, not bit-equal with, PIL's.
 */
public final class ImageInput {
    /** CLIP normalisation constants (openai/clip-vit-large-patch14-336 preprocessor_config.json). */
    public static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    public static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private ImageInput() {
    }

    /** Reads a PNG/JPEG (anything javax.imageio reads). @throws FormatException when unreadable */
    public static BufferedImage read(Path file) throws IOException {
        BufferedImage img = ImageIO.read(file.toFile());
        if (img == null) {
            throw new FormatException(file, Kind.UNSUPPORTED, "not an image javax.imageio can read (PNG, JPEG, GIF, BMP)");
        }
        return img;
    }

    /** A fixed 64x48 test picture (colour bars over a gradient), used when no --image is given. */
    public static BufferedImage builtIn() {
        BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) {
            for (int x = 0; x < 64; x++) {
                int r = (x * 255) / 63;
                int g = (y * 255) / 47;
                int b = ((x / 8 + y / 8) % 2) * 200 + 20;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    /**
     * CHW float pixels {@code [3, size, size]}.
     *
     * @param padToSquare LLaVA's {@code expand2square} with the mean colour before resizing
     */
    public static float[] preprocess(BufferedImage source, int size, boolean padToSquare) {
        BufferedImage img = source;
        if (padToSquare && img.getWidth() != img.getHeight()) {
            int side = Math.max(img.getWidth(), img.getHeight());
            BufferedImage sq = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = sq.createGraphics();
            g.setColor(new Color((int) (255 * MEAN[0]), (int) (255 * MEAN[1]), (int) (255 * MEAN[2])));
            g.fillRect(0, 0, side, side);
            g.drawImage(img, (side - img.getWidth()) / 2, (side - img.getHeight()) / 2, null);
            g.dispose();
            img = sq;
        }
        BufferedImage resized = resize(img, size);
        float[] out = new float[3 * size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = resized.getRGB(x, y);
                for (int c = 0; c < 3; c++) {
                    int v = (rgb >> (16 - 8 * c)) & 0xff;
                    out[c * size * size + y * size + x] = (v / 255f - MEAN[c]) / STD[c];
                }
            }
        }
        return out;
    }

    /** Shortest edge to {@code size} then centre crop, as CLIPImageProcessor does. */
    private static BufferedImage resize(BufferedImage img, int size) {
        double scale = (double) size / Math.min(img.getWidth(), img.getHeight());
        int w = Math.max(size, (int) Math.round(img.getWidth() * scale));
        int h = Math.max(size, (int) Math.round(img.getHeight() * scale));
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(img, -(w - size) / 2, -(h - size) / 2, w, h, null);
        g.dispose();
        return out;
    }
}

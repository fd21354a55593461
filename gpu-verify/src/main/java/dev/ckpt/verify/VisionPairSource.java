package dev.ckpt.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ckpt.formats.FormatException;
import dev.ckpt.formats.FormatException.Kind;
import dev.ckpt.formats.TensorInfo;
import dev.ckpt.formats.TensorView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One LLaVA model stored as two files, seen as one checkpoint: a language model source and a
 * vision source (CLIP tower + projector under their Hugging Face LLaVA names), as llama.cpp keeps
 * them in a language GGUF and an mmproj GGUF. Tensors are the union (a name in both is an error);
 * the config is the language config with the vision source's config fields laid over it (the
 * vision source supplies the LLaVA keys: {@code mm_*}, {@code vision_config}, architecture). The
 * pair owns its vision tower ({@link #ownsVisionTower()}), so verification runs the vision
 * weights that were handed in, never a tower found elsewhere. Owns and closes both sources.
 */
public final class VisionPairSource implements WeightSource {
    private final WeightSource language;
    private final WeightSource vision;
    private final Map<String, WeightSource> owner = new HashMap<>();
    private final List<TensorInfo> tensors = new ArrayList<>();
    private final ObjectNode config;

    /**
     * Takes ownership of both sources (closed with this one, also when the constructor throws).
     *
     * @throws FormatException when a tensor name is in both sources, or the language source has no config
     */
    public VisionPairSource(WeightSource language, WeightSource vision) throws FormatException {
        this.language = language;
        this.vision = vision;
        try {
            for (WeightSource s : List.of(language, vision)) {
                for (TensorInfo t : s.tensors()) {
                    if (owner.putIfAbsent(t.name(), s) != null) {
                        throw new FormatException(vision.root(), Kind.MISMATCH, "tensor " + t.name() + " is in both " + language.root()
                                + " and " + vision.root() + "; the language model file must not carry the vision part");
                    }
                    tensors.add(t);
                }
            }
            ObjectNode c = language.config().orElseThrow(() -> new FormatException(language.root(), Kind.MISSING_TENSOR,
                    "no config for the language model"));
            config = c.deepCopy();
            vision.config().ifPresent(config::setAll);
        } catch (FormatException | RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public Path root() {
        return language.root(); // tokenizer and other side files belong to the language model
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public TensorView view(String name) throws IOException {
        WeightSource s = owner.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return s.view(name);
    }

    @Override
    public Optional<ObjectNode> config() {
        return Optional.of(config);
    }

    @Override
    public boolean ownsVisionTower() {
        return true;
    }

    @Override
    public List<String> problems() {
        List<String> p = new ArrayList<>(language.problems());
        p.addAll(vision.problems());
        return p;
    }

    @Override
    public void close() {
        try {
            language.close();
        } finally {
            vision.close();
        }
    }
}

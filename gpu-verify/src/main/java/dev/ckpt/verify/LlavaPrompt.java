package dev.ckpt.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code llava_v1} conversation template and LLaVA's {@code tokenizer_image_token}: the prompt
 * is split at {@code <image>}, each chunk tokenised on its own (BOS kept on the first chunk only)
 * and {@link #IMAGE_TOKEN} inserted between chunks.
 */
public final class LlavaPrompt {
    /** LLaVA's IMAGE_TOKEN_INDEX: a placeholder id that is never embedded. */
    public static final int IMAGE_TOKEN = -200;
    static final String SYSTEM = "A chat between a curious human and an artificial intelligence assistant. "
            + "The assistant gives helpful, detailed, and polite answers to the human's questions.";

    private LlavaPrompt() {
    }

    /** One-turn llava_v1 prompt text for {@code question}, image first. */
    public static String text(String question, boolean imStartEnd) {
        String image = imStartEnd ? "<im_start><image><im_end>" : "<image>";
        return SYSTEM + " USER: " + image + "\n" + question + " ASSISTANT:";
    }

    /** Token ids of {@code prompt} with {@link #IMAGE_TOKEN} at each {@code <image>}. */
    public static int[] tokenize(TextTokenizer tokenizer, String prompt) {
        String[] chunks = prompt.split("<image>", -1);
        List<Integer> ids = new ArrayList<>();
        for (int c = 0; c < chunks.length; c++) {
            if (c > 0) {
                ids.add(IMAGE_TOKEN);
            }
            int[] part = tokenizer.encode(chunks[c], c == 0);
            for (int id : part) {
                ids.add(id);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}

package dev.ckpt.tools.gguf;

/**
 * The Q/K row permutation of llama.cpp's converter ({@code LlamaModel.permute}): per head, HF's
 * "first half / second half" rotary layout becomes interleaved pairs. Whole rows move. For head h,
 * i in [0, half), j in {0, 1}: {@code out[h*hd + 2i + j] = in[h*hd + j*half + i]}.
 */
public record RopePermutation(long rows, int heads) {
    public RopePermutation {
        if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows cannot be split into " + heads + " heads of even size");
        }
    }

    /** The input row that output row {@code out} takes (HF -> GGUF). */
    public long sourceOf(long out) {
        long hd = rows / heads;
        long half = hd / 2;
        long h = out / hd;
        long r = out % hd;
        long i = r / 2;
        long j = r % 2;
        return h * hd + j * half + i;
    }

    /** The GGUF row that HF row {@code hfRow} came from (GGUF -> HF, the inverse). */
    public long inverseSourceOf(long hfRow) {
        long hd = rows / heads;
        long half = hd / 2;
        long h = hfRow / hd;
        long r = hfRow % hd;
        long j = r / half;
        long i = r % half;
        return h * hd + 2 * i + j;
    }
}

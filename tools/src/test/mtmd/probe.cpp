// Loads a llama GGUF + mmproj GGUF with llama.cpp's mtmd, encodes one w x h RGB image (raw file), prints JSON.
#include "llama.h"
#include "mtmd.h"
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <string>
int main(int argc, char ** argv) {
    if (argc < 6) { fprintf(stderr, "usage: probe model.gguf mmproj.gguf image.rgb w h\n"); return 2; }
    llama_backend_init();
    ggml_backend_load_all_from_path(getenv("GGML_LIB_DIR"));
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "model load failed\n"); return 1; }
    mtmd_context_params cp = mtmd_context_params_default();
    cp.use_gpu = false; cp.n_threads = 2; cp.warmup = false; cp.print_timings = false;
    mtmd_context * ctx = mtmd_init_from_file(argv[2], model, cp);
    if (!ctx) { fprintf(stderr, "mtmd_init_from_file failed\n"); return 1; }
    int w = atoi(argv[4]), h = atoi(argv[5]);
    std::vector<unsigned char> rgb(w * h * 3);
    FILE * f = fopen(argv[3], "rb"); fread(rgb.data(), 1, rgb.size(), f); fclose(f);
    mtmd_bitmap * bmp = mtmd_bitmap_init(w, h, rgb.data());
    std::string prompt = std::string("a ") + mtmd_default_marker() + " b";
    mtmd_input_text txt = {prompt.c_str(), prompt.size(), true, true};
    mtmd_input_chunks * chunks = mtmd_input_chunks_init();
    const mtmd_bitmap * bmps[] = {bmp};
    int rc = mtmd_tokenize(ctx, chunks, &txt, bmps, 1);
    if (rc != 0) { fprintf(stderr, "tokenize rc %d\n", rc); return 1; }
    for (size_t i = 0; i < mtmd_input_chunks_size(chunks); i++) {
        const mtmd_input_chunk * c = mtmd_input_chunks_get(chunks, i);
        if (mtmd_input_chunk_get_type(c) != MTMD_INPUT_CHUNK_TYPE_IMAGE) continue;
        if (mtmd_encode_chunk(ctx, c) != 0) { fprintf(stderr, "encode failed\n"); return 1; }
        size_t n = mtmd_input_chunk_get_n_tokens(c);
        int d = llama_model_n_embd(model);
        float * e = mtmd_get_output_embd(ctx);
        printf("{\"tokens\": %zu, \"embd\": %d, \"values\": [", n, d);
        for (size_t k = 0; k < n * d; k++) printf(k ? ",%.7g" : "%.7g", e[k]);
        printf("]}\n");
    }
    return 0;
}

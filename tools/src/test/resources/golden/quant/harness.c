// Golden-vector harness: quantize f32 blocks with llama.cpp's reference quantizers (ggml-quants.c).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ggml.h"
#include "ggml-quants.h"
int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: harness TYPE in.f32 out.bin\n"); return 2; }
  FILE *f = fopen(argv[2], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
  float *x = malloc(n * 4); if (fread(x, 4, n, f) != (size_t) n) return 3; fclose(f);
  void *y = calloc(n * 2 + 1024, 1); size_t bytes;
  const char *t = argv[1];
  if (!strcmp(t, "Q8_0")) { quantize_row_q8_0_ref(x, y, n); bytes = n / 32 * 34; }
  else if (!strcmp(t, "Q4_0")) { quantize_row_q4_0_ref(x, y, n); bytes = n / 32 * 18; }
  else if (!strcmp(t, "Q4_1")) { quantize_row_q4_1_ref(x, y, n); bytes = n / 32 * 20; }
  else if (!strcmp(t, "Q5_0")) { quantize_row_q5_0_ref(x, y, n); bytes = n / 32 * 22; }
  else if (!strcmp(t, "Q5_1")) { quantize_row_q5_1_ref(x, y, n); bytes = n / 32 * 24; }
  else if (!strcmp(t, "Q4_K")) { quantize_row_q4_K_ref(x, y, n); bytes = n / 256 * 144; }
  else if (!strcmp(t, "Q5_K")) { quantize_row_q5_K_ref(x, y, n); bytes = n / 256 * 176; }
  else if (!strcmp(t, "Q6_K")) { quantize_row_q6_K_ref(x, y, n); bytes = n / 256 * 210; }
  else { fprintf(stderr, "unknown type %s\n", t); return 2; }
  f = fopen(argv[3], "wb"); fwrite(y, 1, bytes, f); fclose(f); return 0;
}

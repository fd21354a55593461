#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
void ggml_abort(const char *file, int line, const char *fmt, ...) { fprintf(stderr, "abort %s:%d\n", file, line); abort(); }
void ggml_log_internal(int level, const char *fmt, ...) {}
#include <stddef.h>
#include <stdint.h>
size_t ggml_row_size(int type, int64_t ne) { abort(); }
size_t ggml_type_size(int type) { abort(); }
const char *ggml_type_name(int type) { return "?"; }
size_t ggml_blck_size(int type) { abort(); }

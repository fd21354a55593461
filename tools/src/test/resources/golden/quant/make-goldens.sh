#!/usr/bin/env bash
# Regenerates the golden quant blocks from llama.cpp's reference quantizers (see README.md).
# usage: make-goldens.sh LLAMA_CPP_SOURCE_DIR   (the source bundled in node-llama-cpp: llama/gitRelease.bundle)
set -euo pipefail
src="$1"; here="$(cd "$(dirname "$0")" && pwd)"; tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
gcc -O2 -ffp-contract=off -I"$src/ggml/include" -I"$src/ggml/src" -c "$src/ggml/src/ggml-quants.c" -o "$tmp/q.o"
gcc -O2 -ffp-contract=off -I"$src/ggml/include" -I"$src/ggml/src" "$here/harness.c" "$here/stubs.c" "$tmp/q.o" -lm -o "$tmp/harness"
cd "$here"
python3 gen_inputs.py
for t in Q8_0 Q4_0 Q4_1 Q5_0 Q5_1; do "$tmp/harness" $t input-32.f32 $t.bin; done
for t in Q4_K Q5_K Q6_K; do "$tmp/harness" $t input-256.f32 $t.bin; done
sha256sum input-32.f32 input-256.f32 Q*.bin

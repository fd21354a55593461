#!/usr/bin/env bash
# Quantizer throughput: ckpt next to llama.cpp's llama_model_quantize (the libllama shipped in the npm
# package node-llama-cpp, called through Java FFM) on the same f16 GGUF, same thread count.
# usage: bench/run-quantize.sh [TARGET_MIB=587] [THREADS=2] [TYPES="Q8_0 Q4_0 Q4_K_M"]
# Work files go to ${CKPT_BENCH_DIR:-/tmp/ckpt-bench-quantize} (about 4x TARGET_MIB of disk).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
target="${1:-587}"; threads="${2:-2}"; types="${3:-Q8_0 Q4_0 Q4_K_M}"
work="${CKPT_BENCH_DIR:-/tmp/ckpt-bench-quantize}"; mkdir -p "$work"
bash "$root/tools/src/test/js/install.sh"
lib="$root/tools/src/test/js/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
[ -d "$lib" ] || { echo "bench: libllama not installed (needs npm)" >&2; exit 1; }
(cd "$root" && mvn -q -B -DskipTests -pl bench -am package >&2)
cp="$root/bench/target/classes:$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*"
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmx1g -cp "$cp" \
  dev.ckpt.bench.QuantizeBench "$work" "$lib" "$target" "$threads" $types

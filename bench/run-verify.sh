#!/usr/bin/env bash
# Benchmark of `ckpt verify` on a synthetic Llama: load time, prefill and decode tokens/s, peak RSS.
# usage: bench/run-verify.sh [SHAPE=1b] [DTYPE=f16] [TOKENS=8] [extra ckpt verify options...]
#   SHAPE 7b | 1b | tiny (see bench/src/main/java/dev/ckpt/bench/SyntheticModel.java)
# The model is written once to ${CKPT_BENCH_DIR:-/tmp/ckpt-bench}/verify-SHAPE-DTYPE and reused.
# Prints the verify summary plus /usr/bin/time's max RSS (the JVM's whole peak, heap + native + mapped).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
shape="${1:-1b}"; dtype="${2:-f16}"; tokens="${3:-8}"; shift $(( $# < 3 ? $# : 3 ))
dir="${CKPT_BENCH_DIR:-/tmp/ckpt-bench}/verify-$shape-$dtype"
mkdir -p "$(dirname "$dir")"
(cd "$root" && mvn -q -B -o -DskipTests -pl bench -am package >&2)
cp="$root/bench/target/classes:$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*"
"$JAVA_HOME/bin/java" -cp "$cp" dev.ckpt.bench.SyntheticModel "$dir" "$shape" "$dtype"
du -sh "$dir" >&2
echo "== ckpt verify $dir --device cpu --tokens $tokens $*" >&2
/usr/bin/time -f "wall %e s, max RSS %M kB" "$root/ckpt" verify "$dir" --device cpu --tokens "$tokens" "$@"

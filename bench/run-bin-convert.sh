#!/usr/bin/env bash
# Benchmark: PyTorch .bin -> safetensors conversion against cp.
# Usage: bench/run-bin-convert.sh [SIZE_GB=2] [RUNS=2]
# Generates a bf16 synthetic Llama of SIZE_GB as 1 GB torch.save shards (+ index) under $BENCH_DIR
# (default: a temp dir, removed at the end), warms the page cache, then times, RUNS times each:
#   cp -r SRC DST; sync          (what copying the bytes durably costs)
#   ckpt convert SRC --to safetensors --out DST   (which fsyncs its output before the atomic rename)
# and prints MB/s, the convert/cp throughput ratio and the convert's peak RSS (/usr/bin/time -v).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
size="${1:-2}"
runs="${2:-2}"
work="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-bin.XXXXXX")}"
keep="${BENCH_DIR:+1}"
cleanup() { [ -n "$keep" ] || rm -rf "$work"; }
trap cleanup EXIT

(cd "$root" && mvn -q -B -DskipTests -pl bench -am package >&2)
cp_jar="$root/bench/target/classes:$root/tools/target/ckpt-tools.jar"
src="$work/src"
[ -d "$src" ] || "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$cp_jar" dev.ckpt.bench.GenerateBin "$src" "$size"
bytes=$(du -sb "$src" | cut -f1)
cat "$src"/* > /dev/null   # warm the page cache so both sides read from memory

now() { date +%s.%N; }
best_cp=""; best_cv=""; best_st=""; rss_max=0
ckpt_java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Dai.djl.offline=true
  -jar "$root/tools/target/ckpt-tools.jar")
for i in $(seq 1 "$runs"); do
  rm -rf "$work/cp" "$work/st"; sync
  t0=$(now); cp -r "$src" "$work/cp"; sync; t1=$(now)
  d=$(echo "$t1 - $t0" | bc -l)
  if [ -z "$best_cp" ] || [ "$(echo "$d < $best_cp" | bc -l)" = 1 ]; then best_cp=$d; fi
  rm -rf "$work/cp"; sync
  t0=$(now)
  # the JVM command line of ./ckpt, without its staleness check (which may rebuild)
  /usr/bin/time -v -o "$work/time.txt" "${ckpt_java[@]}" convert "$src" --to safetensors --out "$work/st" > "$work/convert.txt"
  t1=$(now)
  d=$(echo "$t1 - $t0" | bc -l)
  if [ -z "$best_cv" ] || [ "$(echo "$d < $best_cv" | bc -l)" = 1 ]; then best_cv=$d; fi
  # the same bytes from safetensors: isolates what reading .bin costs over reading safetensors
  rm -rf "$work/st2"; sync
  t0=$(now); "${ckpt_java[@]}" convert "$work/st" --out "$work/st2" > /dev/null; t1=$(now)
  d2=$(echo "$t1 - $t0" | bc -l)
  if [ -z "$best_st" ] || [ "$(echo "$d2 < $best_st" | bc -l)" = 1 ]; then best_st=$d2; fi
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  echo "run $i: convert $(printf %.2f "$d") s, peak RSS $((rss / 1024)) MiB" >&2
done
cat "$work/convert.txt"
mbs_cp=$(echo "$bytes / $best_cp / 1000000" | bc -l)
mbs_cv=$(echo "$bytes / $best_cv / 1000000" | bc -l)
printf 'input: %.2f GB in %s\n' "$(echo "$bytes / 1000000000" | bc -l)" "$(ls "$src" | tr '\n' ' ')"
printf 'cp -r + sync:     %8.1f MB/s (%.2f s, best of %d)\n' "$mbs_cp" "$best_cp" "$runs"
printf 'ckpt convert:     %8.1f MB/s (%.2f s, best of %d, JVM start included)\n' "$mbs_cv" "$best_cv" "$runs"
printf 'safetensors->st:  %8.1f MB/s (%.2f s, same bytes, for comparison)\n' "$(echo "$bytes / $best_st / 1000000" | bc -l)" "$best_st"
printf 'ratio convert/cp: %8.1f %%\n' "$(echo "100 * $mbs_cv / $mbs_cp" | bc -l)"
printf 'peak RSS convert: %8d MiB\n' "$((rss_max / 1024))"

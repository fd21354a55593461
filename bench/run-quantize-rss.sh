#!/usr/bin/env bash
# Quantize memory benchmark (issue 8): for each SIZE_GB (default "2 4"), generate a synthetic sharded
# bf16 Llama (hidden 2048, intermediate 5632; dev.ckpt.bench.GenerateModel) and run
# `./ckpt quantize SRC --type T --out X.gguf` for each type, printing wall seconds, CPU seconds
# (user+sys) and peak RSS (/usr/bin/time -v), plus the peaks of RssAnon and RssFile sampled from
# /proc/PID/status every 0.1 s (which part grows: heap and native buffers, or mapped file pages).
# Usage: bench/run-quantize-rss.sh [SIZE_GB...]
# Env: CKPT_BENCH_DIR (work dir, default bench/target/work), CKPT_BENCH_TYPES (default "Q8_0 Q4_K_M"),
#      CKPT_BENCH_THREADS (default 2), CKPT_BENCH_KEEP=1 keeps the generated models.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2 4)
work="${CKPT_BENCH_DIR:-$root/bench/target/work}"
types="${CKPT_BENCH_TYPES:-Q8_0 Q4_K_M}"
threads="${CKPT_BENCH_THREADS:-2}"
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (GNU time)" >&2; exit 1; }
(cd "$root" && mvn -q -B -DskipTests -pl bench -am package >&2)
"$root/ckpt" --version >/dev/null   # builds the launcher's jar and start-up cache outside the timings
cp_="$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*:$root/bench/target/classes"
mkdir -p "$work"
generated=()
cleanup() {
  rm -f "$work"/quant-rss-*.gguf
  [ "${CKPT_BENCH_KEEP:-0}" = 1 ] || for d in "${generated[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

# measure CMD...: prints "wall_s cpu_s peak_rss_kb peak_anon_kb peak_file_kb"
measure() {
  local log samples t0 t1 pid
  log=$(mktemp); samples=$(mktemp)
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$log" "$@" >/dev/null &
  pid=$!
  # The JVM is the child of time: sample its smaps_rollup (anonymous vs file-backed resident pages).
  while kill -0 "$pid" 2>/dev/null; do
    for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
      awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {if (a != "") print a, f}' "/proc/$c/status" 2>/dev/null >>"$samples" || true
    done
    sleep 0.1
  done
  wait "$pid"
  t1=$(date +%s.%N)
  local u s r
  u=$(sed -n 's/.*User time (seconds): //p' "$log"); s=$(sed -n 's/.*System time (seconds): //p' "$log")
  r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  read -r a f < <(awk 'BEGIN {a=0; f=0} {if ($1>a) a=$1; if ($2>f) f=$2} END {print a, f}' "$samples")
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$u + $s" | bc -l) $r $a $f"
  rm -f "$log" "$samples"
}

printf '%-6s %-7s %8s %8s %8s %13s %10s %10s\n' input type wall_s cpu_s MB/s peak_RSS_MiB anon_MiB file_MiB
for gb in "${sizes[@]}"; do
  src="$work/llama-bf16-${gb}g"; bytes=$(echo "$gb * 1000000000 / 1" | bc)
  if [ ! -f "$src/config.json" ]; then
    rm -rf "$src"
    "$JAVA_HOME/bin/java" -XX:+UseParallelGC -cp "$cp_" dev.ckpt.bench.GenerateModel "$src" "$bytes" >&2
    generated+=("$src")
  fi
  total=$(du -sb "$src" | cut -f1)
  cat "$src"/*.safetensors >/dev/null   # warm the page cache: measure the quantizer, not the disk
  for t in $types; do
    out="$work/quant-rss-$t.gguf"; rm -f "$out"
    read -r w c r a f < <(measure "$root/ckpt" quantize "$src" --type "$t" --out "$out" --threads "$threads")
    printf '%-6s %-7s %8.2f %8.2f %8d %13d %10d %10d\n' "$(echo "scale=2; $total / 1000000000" | bc -l)GB" "$t" \
      "$w" "$c" "$(echo "$total / $w / 1000000" | bc)" $((r / 1024)) $((a / 1024)) $((f / 1024))
    rm -f "$out"
  done
done
echo "MB/s = bf16 input bytes / wall seconds; peak RSS from /usr/bin/time -v; anon/file = peak RssAnon/RssFile" \
  "sampled from /proc/PID/status every 0.1 s; threads $threads; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

#!/usr/bin/env bash
# Convert benchmark: for each SIZE_GB (default 2), generate a synthetic sharded bf16 Llama of that
# size, then time `ckpt convert --dtype f16` against `cp -r` of the same directory (with and without
# a final `sync`, since convert fsyncs its output). Prints MB/s (source bytes / wall time), the ratio
# to cp, and peak RSS (from /usr/bin/time -v, else VmHWM sampled from /proc).
# Usage: bench/run-convert.sh [SIZE_GB...]   (work dir: $CKPT_BENCH_DIR, default bench/target/work)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(2)
work="${CKPT_BENCH_DIR:-$root/bench/target/work}"
threads="${CKPT_BENCH_THREADS:-0}"
(cd "$root" && mvn -q -B -DskipTests -pl bench -am package >&2)
cp_="$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*:$root/bench/target/classes"
java_cmd=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC ${CKPT_JAVA_OPTS:-})
mkdir -p "$work"

# run LABEL CMD... : prints "seconds peak_rss_kb"
measure() {
  local log; log=$(mktemp)
  if [ -x /usr/bin/time ]; then
    local t0 t1; t0=$(date +%s.%N)
    /usr/bin/time -v -o "$log" "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
  else
    local t0 t1 pid hwm=0 h; t0=$(date +%s.%N)
    "$@" >/dev/null & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h=$(sed -n 's/VmHWM:\s*\([0-9]*\).*/\1/p' /proc/$pid/status 2>/dev/null || true); [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      sleep 0.05
    done
    wait "$pid"; t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $hwm"
  fi
  rm -f "$log"
}

printf '%-6s %-22s %9s %9s %8s %12s\n' size step seconds MB/s ratio peak_RSS_MiB
for gb in "${sizes[@]}"; do
  src="$work/llama-bf16-${gb}g"; bytes=$(echo "$gb * 1000000000 / 1" | bc)
  if [ ! -f "$src/config.json" ]; then
    rm -rf "$src"
    "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.GenerateModel "$src" "$bytes" >&2
  fi
  total=$(du -sb "$src" | cut -f1); sync
  best_cp=""; best_cps=""; best_cv=""; rss_cv=0
  for round in 1 2; do
    rm -rf "$work/cp-out" "$work/cv-out"; sync
    read -r s _ < <(measure cp -r "$src" "$work/cp-out"); best_cp=$(printf '%s\n' $best_cp $s | sort -g | head -1)
    rm -rf "$work/cp-out"; sync
    read -r s _ < <(measure bash -c "cp -r '$src' '$work/cp-out' && sync"); best_cps=$(printf '%s\n' $best_cps $s | sort -g | head -1)
    rm -rf "$work/cp-out"; sync
    read -r s r < <(measure "${java_cmd[@]}" -jar "$root/tools/target/ckpt-tools.jar" convert "$src" --out "$work/cv-out" --dtype f16 --threads "$threads" --json)
    best_cv=$(printf '%s\n' $best_cv $s | sort -g | head -1); [ "$r" -gt "$rss_cv" ] && rss_cv=$r
    rm -rf "$work/cv-out"; sync
  done
  mbs() { echo "scale=0; $total / $1 / 1000000" | bc -l; }
  printf '%-6s %-22s %9.2f %9s %8s %12s\n' "${gb}GB" "cp -r" "$best_cp" "$(mbs "$best_cp")" "" ""
  printf '%-6s %-22s %9.2f %9s %8s %12s\n' "${gb}GB" "cp -r && sync" "$best_cps" "$(mbs "$best_cps")" "" ""
  printf '%-6s %-22s %9.2f %9s %8s %12s\n' "${gb}GB" "convert --dtype f16" "$best_cv" "$(mbs "$best_cv")" \
    "$(echo "scale=2; $best_cp / $best_cv" | bc -l)/$(echo "scale=2; $best_cps / $best_cv" | bc -l)" "$((rss_cv / 1024))"
done
echo "ratio = cp seconds / convert seconds (vs cp -r / vs cp -r && sync); best of 2 rounds; RSS = max of convert runs" >&2

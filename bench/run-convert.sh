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
rounds="${CKPT_BENCH_ROUNDS:-3}"
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
    local u sy; u=$(sed -n 's/.*User time (seconds): //p' "$log"); sy=$(sed -n 's/.*System time (seconds): //p' "$log")
    echo "$(echo "$t1 - $t0" | bc -l) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log") $(echo "$u + $sy" | bc -l)"
  else
    local t0 t1 pid hwm=0 h; t0=$(date +%s.%N)
    "$@" >/dev/null & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h=$(sed -n 's/VmHWM:\s*\([0-9]*\).*/\1/p' /proc/$pid/status 2>/dev/null || true); [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      sleep 0.05
    done
    wait "$pid"; t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $hwm 0"
  fi
  rm -f "$log"
}

printf '%-6s %-22s %9s %9s %11s %9s %12s\n' size step seconds MB/s ratio cpu_s peak_RSS_MiB
for gb in "${sizes[@]}"; do
  src="$work/llama-bf16-${gb}g"; bytes=$(echo "$gb * 1000000000 / 1" | bc)
  if [ ! -f "$src/config.json" ]; then
    rm -rf "$src"
    "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.GenerateModel "$src" "$bytes" >&2
  fi
  total=$(du -sb "$src" | cut -f1); sync
  declare -A best=() cpu=(); rss_cv=0
  for round in $(seq 1 "$rounds"); do
    for step in cp cps cv; do
      rm -rf "$work/out"; sync
      case $step in
        cp)  read -r s r c < <(measure cp -r "$src" "$work/out") ;;
        cps) read -r s r c < <(measure bash -c "cp -r '$src' '$work/out' && sync") ;;
        cv)  read -r s r c < <(measure "$root/ckpt" convert "$src" --out "$work/out" --dtype f16 --threads "$threads" --json)
             [ "$r" -gt "$rss_cv" ] && rss_cv=$r ;;
      esac
      if [ -z "${best[$step]:-}" ] || [ "$(echo "$s < ${best[$step]}" | bc -l)" = 1 ]; then best[$step]=$s; cpu[$step]=$c; fi
    done
  done
  rm -rf "$work/out"
  mbs() { echo "scale=0; $total / $1 / 1000000" | bc -l; }
  printf '%-6s %-22s %9.2f %9s %11s %9.2f %12s\n' "${gb}GB" "cp -r" "${best[cp]}" "$(mbs "${best[cp]}")" "" "${cpu[cp]}" ""
  printf '%-6s %-22s %9.2f %9s %11s %9.2f %12s\n' "${gb}GB" "cp -r && sync" "${best[cps]}" "$(mbs "${best[cps]}")" "" "${cpu[cps]}" ""
  printf '%-6s %-22s %9.2f %9s %11s %9.2f %12s\n' "${gb}GB" "ckpt convert --dtype f16" "${best[cv]}" "$(mbs "${best[cv]}")" \
    "$(echo "scale=2; ${best[cp]} / ${best[cv]}" | bc -l)/$(echo "scale=2; ${best[cps]} / ${best[cv]}" | bc -l)" "${cpu[cv]}" "$((rss_cv / 1024))"
done
echo "MB/s = source bytes / wall seconds (best of $rounds rounds); ratio = cp seconds / convert seconds (vs 'cp -r' / vs 'cp -r && sync');" >&2
echo "cpu_s = user+sys of the best round; peak RSS = max over convert rounds (convert fsyncs its output; plain cp does not). load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

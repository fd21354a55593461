#!/usr/bin/env bash
# apply-delta / make-delta benchmark. For each SIZE_GB (default 4): generate a synthetic bf16 Llama
# base and a "fine-tuned" target of that size (different seeds), then time
#   make-delta  (target - base -> delta)   and   apply-delta (base + delta -> out)
# next to the bytes they must move: `cat` of both inputs to /dev/null and `cp -r` of the output.
# Prints seconds, ratio to cat+cp, CPU seconds (user+sys, which load does not inflate), peak RSS (MiB)
# and the 1-minute load average when the step started. Work dir: $CKPT_BENCH_DIR (default bench/target/work).
# Usage: bench/run-delta.sh [SIZE_GB...]   (CKPT_BENCH_CLEAN=1 deletes each size's inputs afterwards)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(4)
work="${CKPT_BENCH_DIR:-$root/bench/target/work}"
threads="${CKPT_BENCH_THREADS:-0}"
heap="${CKPT_BENCH_XMX:-1g}"
(cd "$root" && mvn -q -B -o -DskipTests -pl bench -am package >&2)
cp_="$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*:$root/bench/target/classes"
java_cmd=("$JAVA_HOME/bin/java" "-Xmx$heap" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC ${CKPT_JAVA_OPTS:-})
ckpt=("${java_cmd[@]}" -jar "$root/tools/target/ckpt-tools.jar")
mkdir -p "$work"

# measure_cpu CMD...: "seconds peak_rss_kb cpu_seconds load1" (GNU time: %e wall, %M KiB, %U+%S CPU).
measure_cpu() {
  local log load; log=$(mktemp); load=$(cut -d' ' -f1 /proc/loadavg)
  /usr/bin/time -f '%e %M %U %S' -o "$log" "$@" >/dev/null
  read -r e m u s < "$log"; rm -f "$log"
  echo "$e $m $(echo "$u + $s" | bc -l) $load"
}

printf '%-6s %-28s %9s %8s %7s %9s %6s\n' size step seconds vs_io cpu_s RSS_MiB load1
row() { printf '%-6s %-28s %9.2f %8s %7.2f %9s %6s\n' "$@"; }
for gb in "${sizes[@]}"; do
  bytes=$(echo "$gb * 1000000000 / 1" | bc)
  base="$work/delta-base-${gb}g"; target="$work/delta-target-${gb}g"
  [ -f "$base/config.json" ] || { rm -rf "$base"; "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.DeltaLoraInputs model "$base" "$bytes" 7 >&2; }
  [ -f "$target/config.json" ] || { rm -rf "$target"; "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.DeltaLoraInputs model "$target" "$bytes" 8 >&2; }
  delta="$work/delta-${gb}g"; out="$work/delta-out-${gb}g"; cpo="$work/delta-cp-${gb}g"
  rm -rf "$delta" "$out" "$cpo"; sync
  read -r t_make r_make c_make l_make < <(measure_cpu "${ckpt[@]}" make-delta --base "$base" --target "$target" --out "$delta" --threads "$threads" --json)
  sync
  read -r t_cat _ c_cat l_cat < <(measure_cpu bash -c "cat '$base'/*.safetensors '$delta'/*.safetensors > /dev/null")
  read -r t_cp _ c_cp l_cp < <(measure_cpu bash -c "cp -r '$delta' '$cpo' && sync")
  rm -rf "$cpo"; sync
  read -r t_apply r_apply c_apply l_apply < <(measure_cpu "${ckpt[@]}" apply-delta --base "$base" --delta "$delta" --out "$out" --threads "$threads" --json)
  io=$(echo "$t_cat + $t_cp" | bc -l)
  row "${gb}GB" "cat base+delta > /dev/null" "$t_cat" "" "$c_cat" "" "$l_cat"
  row "${gb}GB" "cp -r delta && sync" "$t_cp" "" "$c_cp" "" "$l_cp"
  row "${gb}GB" "make-delta" "$t_make" "$(echo "scale=2; $t_make / $io" | bc -l)x" "$c_make" "$((r_make / 1024))" "$l_make"
  row "${gb}GB" "apply-delta" "$t_apply" "$(echo "scale=2; $t_apply / $io" | bc -l)x" "$c_apply" "$((r_apply / 1024))" "$l_apply"
  rm -rf "$out"
  [ "${CKPT_BENCH_CLEAN:-0}" = 1 ] && rm -rf "$base" "$target" "$delta"
done
echo "vs_io = seconds / (cat of both inputs + cp -r of the output with sync); output is fsynced by ckpt; -Xmx$heap; cpu_s = user+sys; load1 = 1-min load average at the start of the step; now: $(cat /proc/loadavg)" >&2

#!/usr/bin/env bash
# merge-lora benchmark. For each SIZE_GB (default 4): a synthetic bf16 Llama of that size and an
# r=RANK (default 128, alpha 2r) bf16 PEFT adapter on all 7 linear layers of every block; time
# merge-lora next to `cp -r` of the output (+ sync) and `cat` of the inputs. Peak RSS in MiB.
# Usage: bench/run-lora.sh [SIZE_GB...]   env: CKPT_BENCH_RANK, CKPT_BENCH_THREADS, CKPT_BENCH_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
. "$root/bench/measure.sh"
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(4)
rank="${CKPT_BENCH_RANK:-128}"
work="${CKPT_BENCH_DIR:-$root/bench/target/work}"
threads="${CKPT_BENCH_THREADS:-0}"
heap="${CKPT_BENCH_XMX:-1g}"
(cd "$root" && mvn -q -B -o -DskipTests -pl bench -am package >&2)
cp_="$root/tools/target/ckpt-tools.jar:$root/tools/target/lib/*:$root/bench/target/classes"
java_cmd=("$JAVA_HOME/bin/java" "-Xmx$heap" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC --add-modules jdk.incubator.vector ${CKPT_JAVA_OPTS:-})
mkdir -p "$work"

printf '%-6s %-30s %9s %10s %12s\n' size step seconds vs_cp peak_RSS_MiB
for gb in "${sizes[@]}"; do
  bytes=$(echo "$gb * 1000000000 / 1" | bc)
  base="$work/delta-base-${gb}g"; lora="$work/lora-r${rank}-${gb}g"; out="$work/lora-out-${gb}g"; cpo="$work/lora-cp-${gb}g"
  [ -f "$base/config.json" ] || { rm -rf "$base"; "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.DeltaLoraInputs model "$base" "$bytes" 7 >&2; }
  [ -f "$lora/adapter_config.json" ] || { rm -rf "$lora" "$lora.parts"; "${java_cmd[@]}" -cp "$cp_" dev.ckpt.bench.DeltaLoraInputs lora "$base" "$lora" "$rank" >&2; }
  rm -rf "$out" "$cpo"; sync
  read -r t_cat _ < <(measure bash -c "cat '$base'/*.safetensors '$lora'/*.safetensors > /dev/null")
  read -r t_cp _ < <(measure bash -c "cp -r '$base' '$cpo' && sync")
  rm -rf "$cpo"; sync
  read -r t_m r_m < <(measure "${java_cmd[@]}" -jar "$root/tools/target/ckpt-tools.jar" merge-lora --base "$base" --lora "$lora" --out "$out" --threads "$threads" --json)
  printf '%-6s %-30s %9.2f %10s %12s\n' "${gb}GB" "cat base+adapter > /dev/null" "$t_cat" "" ""
  printf '%-6s %-30s %9.2f %10s %12s\n' "${gb}GB" "cp -r base && sync" "$t_cp" "" ""
  printf '%-6s %-30s %9.2f %10s %12s\n' "${gb}GB" "merge-lora r=$rank (all linear)" "$t_m" "$(echo "scale=2; $t_m / $t_cp" | bc -l)x" "$((r_m / 1024))"
  rm -rf "$out"
done
echo "vs_cp = merge seconds / (cp -r of a model of the output's size, with sync); -Xmx$heap; $(nproc) cores" >&2

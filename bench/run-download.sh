#!/usr/bin/env bash
# Download benchmark on loopback: ckpt serve publishes a synthetic SIZE_GB repo (one random model.safetensors),
# then the same file is fetched by curl, by `ckpt download --connections 1` (one stream) and by
# `ckpt download` (default: 8 concurrent ranges). Prints MB/s, the ratio to curl and peak RSS of each.
# Usage: bench/run-download.sh [SIZE_GB=2] [PORT=18123]   (needs curl and /usr/bin/time; writes under $TMPDIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_gb="${1:-2}"
port="${2:-18123}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-dl.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$root/ckpt" --version >/dev/null   # builds the CLI first if needed
bytes=$(awk -v g="$size_gb" 'BEGIN { printf "%d", g * 1000000000 }')
mkdir -p "$work/models/bench/synthetic"
echo "bench: writing a ${size_gb} GB random file..." >&2
head -c "$bytes" /dev/urandom > "$work/models/bench/synthetic/model.safetensors"
echo '{"model_type":"llama"}' > "$work/models/bench/synthetic/config.json"

"$root/ckpt" serve --models "$work/models" --port "$port" > "$work/serve.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -sf "$url/api/models/bench/synthetic/revision/main" -o /dev/null && break; sleep 0.5; done
# the first revision call hashes the file (sha256 etag); later calls hit the server's memo
file_url="$url/bench/synthetic/resolve/main/model.safetensors"
sync

measure() { # name, command...  -> prints "name seconds peak_rss_kb"
  local name="$1"; shift
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$name.rss" "$@" > "$work/$name.out" 2> "$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(tail -n1 "$work/$name.rss")"
}

results=()
results+=("$(measure curl curl -sf -o "$work/curl.bin" "$file_url")")
rm -f "$work/curl.bin"
results+=("$(measure ckpt-1-stream "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/cache1" --connections 1 --json)")
rm -rf "$work/cache1"
results+=("$(measure ckpt-8-ranges "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/cache8" --json)")
rm -rf "$work/cache8"

# in-process transfer time of ckpt (from its --json "seconds": no JVM start-up, sha256 check included)
inner() { sed -n 's/.*"seconds" : \([0-9.eE-]*\).*/\1/p' "$work/$1.out" | head -n1; }
curl_s=$(echo "${results[0]}" | awk '{print $2}')
printf '%-16s %9s %9s %9s %10s %9s %12s\n' tool wall_s MB/s vs_curl transfer_s MB/s peak_RSS_MB
for r in "${results[@]}"; do
  set -- $r
  t="$2"; [ "$1" = curl ] || t="$(inner "$1")"
  awk -v n="$1" -v s="$2" -v t="$t" -v rss="$3" -v b="$bytes" -v c="$curl_s" \
    'BEGIN { printf "%-16s %9.2f %9.0f %8.0f%% %10.2f %9.0f %12.0f\n", n, s, b / s / 1e6, 100 * c / s, t, b / t / 1e6, rss / 1024 }'
done
echo "(size ${size_gb} GB on loopback, $(nproc) CPUs shared by client, server and hashing;"
echo " wall_s includes JVM start-up; transfer_s is ckpt's own timing of the download incl. the sha256 check)"

#!/usr/bin/env bash
# Download benchmark on loopback. `ckpt serve` publishes a synthetic SIZE_GB repo (one random model.safetensors);
# the file is fetched by curl, by `ckpt download --connections 1` (one stream) and by `ckpt download` (default:
# 8 concurrent ranges). Two servers: unlimited, and one capping each connection at THROTTLE per second (the way
# CDNs cap single connections, where range splitting pays). Prints wall time, MB/s, ratio to curl, ckpt's own
# transfer time (no JVM start-up; sha256 check included) and peak RSS of each run.
# Usage: bench/run-download.sh [SIZE_GB=2] [THROTTLE=40MB] [PORT=18123]   (needs curl and /usr/bin/time)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_gb="${1:-2}"
throttle="${2:-40MB}"
port="${3:-18123}"
work="$(mktemp -d "${TMPDIR:-/tmp}/ckpt-bench-dl.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"$root/ckpt" --version >/dev/null   # builds the CLI first if needed
bytes=$(awk -v g="$size_gb" 'BEGIN { printf "%d", g * 1000000000 }')
mkdir -p "$work/models/bench/synthetic"
echo "bench: writing a ${size_gb} GB random file..." >&2
head -c "$bytes" /dev/urandom > "$work/models/bench/synthetic/model.safetensors"
echo '{"model_type":"llama"}' > "$work/models/bench/synthetic/config.json"

start_server() { # port [throttle]
  "$root/ckpt" serve --models "$work/models" --port "$1" ${2:+--throttle-per-connection "$2"} > "$work/serve-$1.log" 2>&1 &
  pids+=($!)
  # the first revision call hashes the file (sha256 etag); later calls hit the server's memo
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$1/api/models/bench/synthetic/revision/main" -o /dev/null && return 0; sleep 0.5; done
  echo "bench: server on port $1 did not start" >&2; cat "$work/serve-$1.log" >&2; exit 1
}

measure() { # name, command...  -> prints "name wall_seconds peak_rss_kb"
  local name="$1"; shift
  sync
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$name.rss" "$@" > "$work/$name.out" 2> "$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $(tail -n1 "$work/$name.rss")"
}
inner() { sed -n 's/.*"seconds" : \([0-9.eE-]*\).*/\1/p' "$work/$1.out" | head -n1; }

scenario() { # label port
  local label="$1" url="http://127.0.0.1:$2" results=()
  results+=("$(measure curl-$2 curl -sf -o "$work/curl.bin" "$url/bench/synthetic/resolve/main/model.safetensors")")
  rm -f "$work/curl.bin"
  results+=("$(measure ckpt-1-stream-$2 "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/c1" --connections 1 --json)")
  rm -rf "$work/c1"
  results+=("$(measure ckpt-8-ranges-$2 "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/c8" --json)")
  rm -rf "$work/c8"
  local curl_s
  curl_s=$(echo "${results[0]}" | awk '{print $2}')
  echo "== $label"
  printf '%-22s %8s %8s %8s %11s %8s %12s\n' tool wall_s MB/s vs_curl transfer_s MB/s peak_RSS_MB
  for r in "${results[@]}"; do
    set -- $r
    local t="$2"
    case "$1" in curl*) ;; *) t="$(inner "$1")" ;; esac
    awk -v n="${1%-*}" -v s="$2" -v t="$t" -v rss="$3" -v b="$bytes" -v c="$curl_s" \
      'BEGIN { printf "%-22s %8.2f %8.0f %7.0f%% %11.2f %8.0f %12.0f\n", n, s, b / s / 1e6, 100 * c / s, t, b / t / 1e6, rss / 1024 }'
  done
}

start_server "$port"
start_server "$((port + 1))" "$throttle"
scenario "unlimited loopback" "$port"
scenario "each connection capped at $throttle/s" "$((port + 1))"
echo "(file ${size_gb} GB; $(nproc) CPUs shared by client, server and hashing; wall_s includes JVM start-up,"
echo " transfer_s is ckpt's own timing of the download including the sha256 check; vs_curl compares wall times)"

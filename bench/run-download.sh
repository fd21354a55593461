#!/usr/bin/env bash
# Download benchmark on loopback. `ckpt serve` publishes a synthetic SIZE_GB repo (one random model.safetensors);
# the file is fetched by curl, by curl followed by `openssl dgst -sha256` of the file (the same job as ckpt's,
# which checks every LFS byte), by `curl | tee FILE | openssl dgst -sha256` (the same job pipelined with native
# tools), by `ckpt download --connections 1` (one stream) and by `ckpt download` (default: 8 concurrent ranges).
# `sha256-only` hashes the cached file with OpenSSL and no network: the floor under any downloader that verifies. Two servers: unlimited, and one capping each connection at THROTTLE per second (the way
# CDNs cap single connections, where range splitting pays). Prints wall time, MB/s, ratio to curl, ckpt's own
# transfer time (no JVM start-up; sha256 check included), peak RSS and CPU seconds (user+sys) of the client and of
# the server process during that run (CPU seconds do not depend on what else loads the machine; wall times do).
# Usage: bench/run-download.sh [SIZE_GB=2] [THROTTLE=40MB] [PORT=18123]   (needs curl and /usr/bin/time)
# Env: REPS=N runs each tool N times per scenario (default 1); THROTTLED=0 skips the capped scenario.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size_gb="${1:-2}"
throttle="${2:-40MB}"
port="${3:-18123}"
reps="${REPS:-1}"
throttled="${THROTTLED:-1}"
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

declare -A server_pid
start_server() { # port [throttle]
  "$root/ckpt" serve --models "$work/models" --port "$1" ${2:+--throttle-per-connection "$2"} > "$work/serve-$1.log" 2>&1 &
  pids+=($!)
  server_pid[$1]=$!
  # the first revision call hashes the file (sha256 etag); later calls hit the server's memo
  for _ in $(seq 1 240); do curl -sf "http://127.0.0.1:$1/api/models/bench/synthetic/revision/main" -o /dev/null && return 0; sleep 0.5; done
  echo "bench: server on port $1 did not start" >&2; cat "$work/serve-$1.log" >&2; exit 1
}

# user+sys CPU seconds of a process so far (the launcher execs java, so the pid is the JVM's)
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

measure() { # name, server_port, command...  -> prints "name wall_s peak_rss_kb client_cpu_s server_cpu_s"
  local name="$1" sport="$2"; shift 2
  sync
  local t0 t1 s0 s1
  s0=$(cpu_of "${server_pid[$sport]}")
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$work/$name.rss" "$@" > "$work/$name.out" 2> "$work/$name.err" || { cat "$work/$name.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  s1=$(cpu_of "${server_pid[$sport]}")
  read -r rss usr sys < <(tail -n1 "$work/$name.rss")
  echo "$name $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') $rss $(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }') $(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')"
}
inner() { sed -n 's/.*"seconds" : \([0-9.eE-]*\).*/\1/p' "$work/$1.out" | head -n1; }

scenario() { # label port
  local label="$1" url="http://127.0.0.1:$2" results=() rep
  for rep in $(seq 1 "$reps"); do
    results+=("$(measure curl-$rep-$2 "$2" curl -sf -o "$work/curl.bin" "$url/bench/synthetic/resolve/main/model.safetensors")")
    # the floor for any verifying downloader: hashing the bytes alone (file in the page cache, no network)
    results+=("$(measure sha256-only-$rep-$2 "$2" openssl dgst -sha256 "$work/curl.bin")")
    rm -f "$work/curl.bin"
    # the same job as ckpt's: fetch, then check the sha256 (OpenSSL, the fastest hasher on the machine)
    results+=("$(measure curl+sha256-$rep-$2 "$2" sh -c "curl -sf -o '$work/curl.bin' '$url/bench/synthetic/resolve/main/model.safetensors' && openssl dgst -sha256 '$work/curl.bin'")")
    rm -f "$work/curl.bin"
    # the same job pipelined with native tools: hash while the bytes arrive
    results+=("$(measure curl-tee-sha256-$rep-$2 "$2" sh -c "curl -sf '$url/bench/synthetic/resolve/main/model.safetensors' | tee '$work/curl.bin' | openssl dgst -sha256")")
    rm -f "$work/curl.bin"
    results+=("$(measure ckpt-1-stream-$rep-$2 "$2" "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/c1" --connections 1 --json)")
    rm -rf "$work/c1"
    results+=("$(measure ckpt-8-ranges-$rep-$2 "$2" "$root/ckpt" download bench/synthetic --endpoint "$url" --cache-dir "$work/c8" --json)")
    rm -rf "$work/c8"
  done
  echo "== $label (load before: $load0)"
  printf '%-22s %8s %8s %8s %10s %11s %8s %12s %9s %9s\n' tool wall_s MB/s vs_curl vs_curl+sha transfer_s MB/s peak_RSS_MB cli_cpu_s srv_cpu_s
  local i curl_s sha_s per_rep=6
  for i in "${!results[@]}"; do
    set -- ${results[$i]}
    # each tool is compared with the curl runs of its own repetition (the same load conditions)
    curl_s=$(echo "${results[$((i / per_rep * per_rep))]}" | awk '{print $2}')
    sha_s=$(echo "${results[$((i / per_rep * per_rep + 2))]}" | awk '{print $2}')
    local t="$2"
    case "$1" in ckpt*) t="$(inner "$1")" ;; esac
    awk -v n="${1%-*}" -v s="$2" -v t="$t" -v rss="$3" -v b="$bytes" -v c="$curl_s" -v h="$sha_s" -v cc="$4" -v sc="$5" \
      'BEGIN { printf "%-22s %8.2f %8.0f %7.0f%% %9.0f%% %11.2f %8.0f %12.0f %9.2f %9.2f\n", n, s, b / s / 1e6, 100 * c / s, 100 * h / s, t, b / t / 1e6, rss / 1024, cc, sc }'
  done
}

start_server "$port"
[ "$throttled" = 1 ] && start_server "$((port + 1))" "$throttle"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
scenario "unlimited loopback" "$port"
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
[ "$throttled" = 1 ] && scenario "each connection capped at $throttle/s" "$((port + 1))"
echo "(load after: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "(file ${size_gb} GB; $(nproc) CPUs shared by client, server and hashing; wall_s includes JVM start-up,"
echo " transfer_s is ckpt's own timing of the download including the sha256 check; vs_curl and vs_curl+sha compare wall times)"

#!/usr/bin/env bash
# Manual interop check with Python's huggingface_hub (not part of CI: it needs Python 3 and PyPI).
#   hub/src/test/python-interop/run.sh [VENV_DIR]
# 1. Python snapshot_download from `ckpt serve`  -> `ckpt download --offline` reuses that cache.
# 2. `ckpt download` into a fresh cache           -> Python snapshot_download(local_files_only) reuses it,
#    and its file hashes match; try_to_load_from_cache finds every file.
# 3. Python hf_hub_download with --local-dir      -> `ckpt download --local-dir --offline` accepts it.
# 4. Python and ckpt download the same repo into one cache at the same time (slow server): both
#    succeed, one blob per file, no .incomplete left (both take flock locks on .locks/…/<etag>.lock).
# Prints one line per check and exits non-zero on the first failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)"
venv="${1:-${TMPDIR:-/tmp}/ckpt-hf-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q huggingface_hub
fi
py="$venv/bin/python"
work=$(mktemp -d); trap 'kill $srv 2>/dev/null || true; rm -rf "$work"' EXIT
"$root/ckpt" --version >/dev/null
# A small repo with an LFS-sized file (> 10 MiB), a safetensors file and plain text files.
mkdir -p "$work/models/acme/tiny"
head -c 12000000 /dev/urandom > "$work/models/acme/tiny/big.bin"
head -c 3000 /dev/urandom > "$work/models/acme/tiny/model.safetensors"
echo '{"model_type": "llama"}' > "$work/models/acme/tiny/config.json"
mkdir -p "$work/models/acme/tiny/sub"; echo hello > "$work/models/acme/tiny/sub/readme.txt"
port=$((20000 + RANDOM % 20000))
"$root/ckpt" serve --models "$work/models" --port "$port" > "$work/serve.log" 2>&1 & srv=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/api/models/acme/tiny/revision/main" >/dev/null && break; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$port" HF_HUB_DISABLE_TELEMETRY=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_XET=1
unset HF_TOKEN HF_HUB_OFFLINE || true

echo "huggingface_hub $("$py" -c 'import huggingface_hub as h; print(h.__version__)')"
# 1. Python writes the cache, ckpt reads it offline.
HF_HUB_CACHE="$work/c1" "$py" -c "from huggingface_hub import snapshot_download as s; print(s('acme/tiny'))" > "$work/p1"
out=$(HF_HUB_CACHE="$work/c1" "$root/ckpt" download acme/tiny --offline --json)
echo "$out" | grep -q '"files"' || { echo "FAIL 1: ckpt --offline did not accept Python's cache: $out"; exit 1; }
cmp "$work/models/acme/tiny/big.bin" "$work/c1/models--acme--tiny/snapshots/"*/big.bin
echo "ok 1: ckpt download --offline reuses the cache Python wrote ($(cat "$work/p1"))"

# 2. ckpt writes the cache, Python reads it with local_files_only (no request at all).
HF_HUB_CACHE="$work/c2" "$root/ckpt" download acme/tiny --json > /dev/null
kill $srv; wait $srv 2>/dev/null || true   # server gone: Python must not need it
HF_HUB_CACHE="$work/c2" HF_HUB_OFFLINE=1 "$py" - "$work" <<'PY'
import hashlib, os, sys
from huggingface_hub import snapshot_download, try_to_load_from_cache, scan_cache_dir
work = sys.argv[1]
snap = snapshot_download("acme/tiny", local_files_only=True)
for rel in ["big.bin", "model.safetensors", "config.json", "sub/readme.txt"]:
    cached = try_to_load_from_cache("acme/tiny", rel)
    assert isinstance(cached, str), f"{rel} not found by try_to_load_from_cache: {cached!r}"
    want = hashlib.sha256(open(os.path.join(work, "models/acme/tiny", rel), "rb").read()).hexdigest()
    got = hashlib.sha256(open(os.path.join(snap, rel), "rb").read()).hexdigest()
    assert want == got, f"{rel}: content differs"
info = scan_cache_dir()
repos = [r.repo_id for r in info.repos]
assert repos == ["acme/tiny"], repos
assert not info.warnings, info.warnings
print(f"ok 2: Python (offline) uses ckpt's cache: {snap}; scan_cache_dir sees {repos}, size {info.size_on_disk} B, no warnings")
PY

# 3. Python --local-dir layout, then ckpt on the same local dir (offline: must accept what is there).
"$root/ckpt" serve --models "$work/models" --port "$port" > "$work/serve.log" 2>&1 & srv=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/api/models/acme/tiny/revision/main" >/dev/null && break; sleep 0.1; done
"$py" -c "from huggingface_hub import snapshot_download as s; s('acme/tiny', local_dir='$work/ld')" > /dev/null
out=$(HF_HUB_CACHE="$work/c3" "$root/ckpt" download acme/tiny --local-dir "$work/ld" --json)
echo "$out" | grep -q '"files"' || { echo "FAIL 3: $out"; exit 1; }
cmp "$work/models/acme/tiny/big.bin" "$work/ld/big.bin"
echo "ok 3: ckpt download --local-dir over Python's local dir: $(echo "$out" | tr -d '\n' | head -c 300)"

# 4. Concurrent Python + ckpt into one cache through a slow server (2 MB/s per connection).
kill $srv; wait $srv 2>/dev/null || true
"$root/ckpt" serve --models "$work/models" --port "$port" --throttle-per-connection 2MB > "$work/serve.log" 2>&1 & srv=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/api/models/acme/tiny/revision/main" >/dev/null && break; sleep 0.1; done
HF_HUB_CACHE="$work/c4" "$py" -c "from huggingface_hub import snapshot_download as s; s('acme/tiny')" > "$work/p4" 2>&1 & pyd=$!
sleep 0.5
HF_HUB_CACHE="$work/c4" "$root/ckpt" download acme/tiny --json > "$work/k4"
wait $pyd || { echo "FAIL 4: Python download failed: $(cat "$work/p4")"; exit 1; }
blobs=$(find "$work/c4/models--acme--tiny/blobs" -type f | wc -l)
incomplete=$(find "$work/c4" -name '*.incomplete' | wc -l)
[ "$blobs" = 4 ] && [ "$incomplete" = 0 ] || { echo "FAIL 4: $blobs blobs, $incomplete .incomplete"; exit 1; }
cmp "$work/models/acme/tiny/big.bin" "$work/c4/models--acme--tiny/snapshots/"*/big.bin
# ckpt started while Python held the lock on big.bin: it must have waited and then found the blob.
dl=$(sed -n 's/^  "downloaded_bytes" : \([0-9]*\).*/\1/p' "$work/k4")
[ "$dl" -lt 12000000 ] || { echo "FAIL 4: ckpt downloaded big.bin again ($dl bytes) instead of waiting for Python's lock"; exit 1; }
echo "ok 4: concurrent Python + ckpt downloads into one cache: both succeeded, $blobs blobs, no .incomplete, ckpt fetched $dl bytes (waited for Python's lock)"

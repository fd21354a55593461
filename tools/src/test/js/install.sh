#!/usr/bin/env bash
# Installs the interop peers (node-llama-cpp's CPU prebuilt, @huggingface/gguf) from the npm registry
# into tools/src/test/js/node_modules, exactly as pinned by package-lock.json. Run by Maven before the
# tests (tools/pom.xml); a no-op when node_modules already matches the lock file. Without node/npm the
# interop tests skip themselves with a message.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v npm >/dev/null 2>&1; then
  echo "ckpt interop: npm not found; llama.cpp / @huggingface/gguf interop tests will be skipped" >&2
  exit 0
fi
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && [ -d node_modules/@node-llama-cpp/linux-x64 ]; then
  exit 0
fi
# npm install (not ci): the lock omits the other platforms' optional prebuilts, which npm ci rejects;
# with the lock in place npm install installs exactly the locked versions and leaves the lock unchanged.
npm install --omit=optional --no-audit --no-fund --loglevel=error

#!/usr/bin/env bash
# Coverage-guided fuzzing (Jazzer) of ckpt's readers of untrusted files. Each target is a JUnit @FuzzTest that
# `./test.sh` replays from its committed inputs (src/test/resources/.../<Test>Inputs/<method>/); here it runs in
# fuzzing mode for SECONDS each. A finding fails the run and Jazzer writes the input next to the seeds, where the
# normal test run replays it from then on: fix the reader, keep the file (name it after the bug) and commit both.
# The generated corpus stays in <module>/.cifuzz-corpus/ (git-ignored) and is reused by later runs.
# Usage: scripts/fuzz.sh [SECONDS=60] [TARGET...]   (TARGET: module/Class#method; default: all of them)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/java-home.sh"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(formats/PickleFuzzTest#unpickleStateDict formats/TorchBinOpenFuzzTest#openAndViewAll
           formats/SafetensorsOpenFuzzTest#openAndViewAll formats/GgufOpenFuzzTest#openAndViewAll
           hub/PlainHttpResponseFuzzTest#readHeadAndBody tools/SentencePieceFuzzTest#readTokenizerModel
           tools/GgufImportFuzzTest#importAndPlanQuantization)
fi
cd "$root"
mvn -q -B -ntp -DskipTests -pl tools -am install > /dev/null 2>&1 || { echo "fuzz: build failed (run mvn -pl tools -am install)" >&2; exit 1; }
failed=()
for t in "${targets[@]}"; do
  echo "== fuzzing $t for ${seconds}s"
  log="$(mktemp "${TMPDIR:-/tmp}/ckpt-fuzz.XXXXXX")"
  if JAZZER_FUZZ=1 JAZZER_MAX_DURATION="${seconds}s" mvn -B -ntp -pl "${t%%/*}" test -Dtest="${t#*/}" \
       -Dsurefire.failIfNoSpecifiedTests=false > "$log" 2>&1; then
    grep -E '^Done [0-9]+ runs' "$log" | tail -n1 || true
  else
    failed+=("$t")
    grep -E 'FuzzTestFindingException|Caused by|crash-|Test unit written|^Done' "$log" | head -n 12 || tail -n 40 "$log"
  fi
  rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs saved under <module>/src/test/resources/)" >&2
  exit 1
fi
echo "fuzz: no findings"

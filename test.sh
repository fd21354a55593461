#!/usr/bin/env bash
# Runs the whole test suite (unit, property, integration) with JDK >= 25.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$root/scripts/java-home.sh"
cd "$root"
exec mvn -B -ntp verify "$@"

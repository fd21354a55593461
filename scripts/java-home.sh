# Sourced by ./ckpt, ./test.sh and bench scripts: exports JAVA_HOME pointing at a JDK >= 25.
# Order: $JAVA_HOME if it is >= 25, then the newest JDK >= 25 under /usr/lib/jvm.
# The JDK's `release` file names its version without starting a JVM (~0.1 s saved per command);
# a JDK without one is asked directly.
ckpt_java_major() {
  if [ -f "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" | head -n1
  else
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
  fi
}
ckpt_find_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(ckpt_java_major "$JAVA_HOME"); if [ "${v:-0}" -ge 25 ] 2>/dev/null; then return 0; fi
  fi
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] || continue
    v=$(ckpt_java_major "$d"); if [ "${v:-0}" -ge 25 ] 2>/dev/null; then export JAVA_HOME="$d"; return 0; fi
  done
  echo "ckpt: needs a JDK 25 or newer; set JAVA_HOME to one (e.g. Temurin 25 under /usr/lib/jvm)" >&2
  return 1
}
ckpt_find_java || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
export DJL_OFFLINE=true

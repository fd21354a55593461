# Sourced by bench scripts: measure CMD... prints "seconds peak_rss_kb" (RSS via /usr/bin/time -v,
# else VmHWM sampled from /proc).
measure() {
  local log; log=$(mktemp)
  if [ -x /usr/bin/time ]; then
    local t0 t1; t0=$(date +%s.%N)
    /usr/bin/time -v -o "$log" "$@" >/dev/null
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
  else
    local t0 t1 pid hwm=0 h; t0=$(date +%s.%N)
    "$@" >/dev/null & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h=$(sed -n 's/VmHWM:\s*\([0-9]*\).*/\1/p' /proc/$pid/status 2>/dev/null || true); [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      sleep 0.05
    done
    wait "$pid"; t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc -l) $hwm"
  fi
  rm -f "$log"
}

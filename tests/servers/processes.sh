# Shared by the test server scripts (sourced): processes stopped by PID only.

# True while process PID runs (a zombie waiting for its reaper counts as gone).
running() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# Sends TERM to each PID given, waits up to 5 s for each to end, then KILLs what is left.
stop_pids() {
  local pid
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for pid in "$@"; do
    for _ in $(seq 100); do running "$pid" || break; sleep 0.05; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  return 0
}

# Sourced by the test server scripts: telling whether a recorded PID still runs.

# True while process PID runs (a zombie waiting for its reaper counts as gone).
running() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

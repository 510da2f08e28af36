#!/usr/bin/env bash
# An OpenSSH server on 127.0.0.1 for the ssh compute target's tests, with keys
# made for the test (nothing of the machine's own ssh setup is read or changed).
#
#   sshd.sh start DIR     makes DIR/hostkey (once), DIR/client_key (once) and
#                         DIR/authorized_keys, picks a free port (kept in DIR/port,
#                         so a restart listens on the same one), starts sshd -D and
#                         returns once it accepts connections. Writes:
#                           DIR/port          the port
#                           DIR/known_hosts   "[127.0.0.1]:PORT <host key>"
#                           DIR/client_key    the private key that may log in as this user
#                           DIR/sshd.pid      the listener's PID
#   sshd.sh stop DIR      stops the listener and the sessions it forked (by PID: the
#                         listener's, and its children's), like a restart of the host's sshd.
#   sshd.sh rekey DIR     gives the server a new host key (known_hosts keeps the old
#                         one): the next start presents a changed host key.
set -euo pipefail

die() { echo "sshd.sh: $*" >&2; exit 1; }

# running PID, stop_pids PID...
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/processes.sh"

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The listener and every session it forked (each session's sshd is a child of it).
stop_server() {
  local dir="$1" pid child pids=()
  [ -f "$dir/sshd.pid" ] || return 0
  pid="$(cat "$dir/sshd.pid")"
  rm -f "$dir/sshd.pid"
  [ -n "$pid" ] && running "$pid" || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "sshd" || return 0
  for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do pids+=("$child"); done
  pids+=("$pid")
  stop_pids "${pids[@]}"
}

start_server() {
  local dir="$1"
  [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd is missing: install openssh-server (scripts/install-deps.sh)"
  mkdir -p "$dir" /run/sshd
  chmod 700 "$dir"
  [ -f "$dir/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -C amlc-test-host -f "$dir/hostkey"
  [ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C amlc-test-client -f "$dir/client_key"
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  [ -f "$dir/port" ] || free_port >"$dir/port"
  local port
  port="$(cat "$dir/port")"
  [ -f "$dir/known_hosts" ] || echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/hostkey.pub")" >"$dir/known_hosts"
  cat >"$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PidFile $dir/sshd.daemon.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
CONF
  /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd refused its configuration ($dir/sshd_config)"
  setsid /usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/sshd.log" 2>&1 </dev/null &
  echo $! >"$dir/sshd.pid"
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    running "$(cat "$dir/sshd.pid")" || die "sshd stopped at once; its log: $(tail -5 "$dir/sshd.log")"
    sleep 0.05
  done
  die "sshd does not accept connections on 127.0.0.1:$port after 10 s"
}

[ $# -eq 2 ] || die "usage: sshd.sh start|stop|rekey DIR"
dir="$(mkdir -p "$2" && cd "$2" && pwd)"
case "$1" in
  start) stop_server "$dir"; start_server "$dir" ;;
  stop) stop_server "$dir" ;;
  rekey) rm -f "$dir/hostkey" "$dir/hostkey.pub"; ssh-keygen -q -t ed25519 -N '' -C amlc-test-host -f "$dir/hostkey" ;;
  *) die "unknown command '$1'" ;;
esac

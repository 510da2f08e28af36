#!/usr/bin/env bash
# Test OCI registries for amlc's registry client tests (CTest fixture "registry").
#
#   registry.sh start DIR   starts four docker-registry servers on 127.0.0.1, each on a free
#                           port the kernel picks, and writes their addresses into DIR:
#                             registry.addr        plain http, no auth
#                             registry-basic.addr  plain http, htpasswd basic auth
#                                                  (credentials: "user:password")
#                             registry-tls.addr    https with a self-signed certificate for
#                                                  IP 127.0.0.1 (ca.pem), no auth
#                             registry-token.addr  plain http, bearer token auth through
#                                                  token_server.py (token.addr, same credentials)
#                           It returns once every /v2/ answers.
#   registry.sh stop DIR    stops them (by the PIDs recorded in DIR/*.pid) and removes DIR.
#
# The servers run until stopped; a second start replaces the servers of a previous one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python=/usr/bin/python3   # Debian's, which has python3-jwt and python3-cryptography
user=amlc
password=amlc-test-secret

die() { echo "registry.sh: $*" >&2; exit 1; }

# running PID, stop_pids PID...
. "$here/processes.sh"

# Stops the servers whose PIDs DIR/*.pid hold (only if that PID still runs one of ours).
stop_servers() {
  local dir="$1" pidfile pid pids=()
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    rm -f "$pidfile"
    [ -n "$pid" ] && running "$pid" || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qE 'docker-registry|token_server\.py' || continue
    pids+=("$pid")
  done
  stop_pids "${pids[@]}"
}

# Starts `docker-registry serve DIR/NAME.yml` in the background; its PID goes to DIR/NAME.pid.
launch_registry() {
  local dir="$1" name="$2"
  setsid docker-registry serve "$dir/$name.yml" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# Waits until the registry NAME logs its port and its /v2/ answers (any HTTP status:
# 401 for the auth ones); then writes DIR/NAME.addr.
await_registry() {
  local dir="$1" name="$2" scheme="$3" addr="" i
  for i in $(seq 200); do
    running "$(cat "$dir/$name.pid")" || { cat "$dir/$name.log" >&2; die "$name exited"; }
    if [ -z "$addr" ]; then
      addr="$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$dir/$name.log" | head -1 | sed 's/listening on //')" || true
    fi
    if [ -n "$addr" ] &&
       curl -s -o /dev/null --cacert "$dir/ca.pem" --max-time 2 "$scheme://$addr/v2/"; then
      echo "$addr" >"$dir/$name.addr.tmp" && mv "$dir/$name.addr.tmp" "$dir/$name.addr"
      return 0
    fi
    sleep 0.05
  done
  cat "$dir/$name.log" >&2
  die "$name did not answer on /v2/ within 10 s"
}

# The registry configuration: NAME, then extra top-level YAML (auth) and http.tls lines.
write_config() {
  local dir="$1" name="$2" auth="$3" tls="$4"
  mkdir -p "$dir/$name-data"
  cat >"$dir/$name.yml" <<YAML
version: 0.1
log: {level: info, fields: {service: $name}}
storage:
  filesystem: {rootdirectory: $dir/$name-data}
  delete: {enabled: true}
http:
  addr: 127.0.0.1:0
  secret: amlc-test-$name
$tls
$auth
YAML
}

start() {
  local dir="$1"
  command -v docker-registry >/dev/null || die "docker-registry is not installed (scripts/install-deps.sh)"
  stop_servers "$dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"

  # TLS: a self-signed certificate for IP 127.0.0.1, which is also the CA the client trusts.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$dir/tls-key.pem" -out "$dir/ca.pem" 2>/dev/null
  # Bearer tokens: the token server signs with this key and sends the certificate in the
  # JWT's x5c header; the registry trusts it through rootcertbundle.
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=amlc test token issuer" \
    -keyout "$dir/token-key.pem" -out "$dir/token-cert.pem" 2>/dev/null
  htpasswd -Bbn "$user" "$password" >"$dir/htpasswd" 2>/dev/null
  echo "$user:$password" >"$dir/credentials"

  setsid "$python" "$here/token_server.py" --port-file "$dir/token.addr" \
    --key "$dir/token-key.pem" --cert "$dir/token-cert.pem" \
    --issuer amlc-test-issuer --service amlc-test-registry \
    --user "$user" --password "$password" >"$dir/token.log" 2>&1 </dev/null &
  echo $! >"$dir/token.pid"
  for _ in $(seq 200); do [ -s "$dir/token.addr" ] && break; sleep 0.05; done
  [ -s "$dir/token.addr" ] || { cat "$dir/token.log" >&2; die "the token server did not start"; }
  local token_addr
  token_addr="$(cat "$dir/token.addr")"

  write_config "$dir" registry "" ""
  write_config "$dir" registry-basic "auth: {htpasswd: {realm: amlc-test, path: $dir/htpasswd}}" ""
  write_config "$dir" registry-tls "" "  tls: {certificate: $dir/ca.pem, key: $dir/tls-key.pem}"
  write_config "$dir" registry-token \
    "auth: {token: {realm: 'http://$token_addr/token', service: amlc-test-registry, issuer: amlc-test-issuer, rootcertbundle: $dir/token-cert.pem}}" ""
  local name
  for name in registry registry-basic registry-tls registry-token; do launch_registry "$dir" "$name"; done
  await_registry "$dir" registry http
  await_registry "$dir" registry-basic http
  await_registry "$dir" registry-tls https
  await_registry "$dir" registry-token http
  echo "registry.sh: servers in $dir:"
  for name in registry registry-basic registry-tls registry-token token; do
    printf '  %-15s %s\n' "$name" "$(cat "$dir/$name.addr")"
  done
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: registry.sh start DIR"; start "$2" ;;
  stop)
    [ $# -eq 2 ] || die "usage: registry.sh stop DIR"
    stop_servers "$2"
    rm -rf "$2"
    ;;
  *) die "usage: registry.sh start|stop DIR" ;;
esac

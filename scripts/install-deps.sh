#!/usr/bin/env bash
# Installs amlc's build and test dependencies on Debian 12, as root.
# Idempotent: when every package is already present it only checks (well under a second).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config default-jre-headless
  # compiler: DSL parser generator + runtime, YAML, graph, JSON, CLI, hashing
  antlr4 libantlr4-runtime-dev libyaml-cpp-dev libboost-graph-dev nlohmann-json3-dev
  libcli11-dev libssl-dev
  # serving fronts: Boost.Asio + Boost.Beast (headers only)
  libboost-dev
  # state, git, HTTP
  libsqlite3-dev libgit2-dev libcpp-httplib-dev libarchive-dev
  # the PostgreSQL state store (libpq); its tests run a server of their own on
  # loopback (tests/servers/postgresql.sh: initdb + pg_ctl, never the system's service)
  libpq-dev postgresql-15
  # runs: the quickstart trains with Debian's scikit-learn
  python3-sklearn python3-numpy
  # runs: the Azure ML example scripts in tests read CSVs with pandas and plot with matplotlib
  python3-pandas python3-matplotlib
  # tests: Catch2, schema cross-check, graph rendering, fuzzing (clang + libFuzzer runtime)
  catch2 python3 python3-jsonschema python3-yaml graphviz unzip clang libclang-rt-14-dev
  # tests: registry client against real registries (tests/servers/registry.sh): plain, basic
  # auth (htpasswd), TLS (openssl) and bearer token (python3-jwt) servers; skopeo/umoci check
  docker-registry skopeo umoci apache2-utils python3-jwt python3-cryptography openssl curl
  # slurm compute target: the Slurm client commands (sbatch, scontrol, squeue, sacct, scancel,
  # sinfo); its tests and bench run a two-node cluster of their own (tests/servers/slurm.sh)
  slurm-client slurm-wlm munge
  # ... with accounting: slurmdbd on a MariaDB of its own, so sacct answers for jobs slurmctld
  # has forgotten (MinJobAge); tests/servers/slurm.sh starts both on loopback
  slurmdbd mariadb-server
  # man pages generated at build time (help2man), rendered by the golden test (man-db);
  # the .deb's shared library dependencies (dpkg-shlibdeps); completion tests load the scripts
  help2man man-db dpkg-dev zsh fish
  # scoring host benchmark (bench/scoring_bench.sh): the gunicorn + Flask baseline, and wrk
  python3-flask gunicorn wrk
  # /metrics of the workspace server and the reconciler: the tests parse it with the
  # Prometheus client's own parser
  python3-prometheus-client
  # reliability: the test suite under CPU load (scripts/stress-test.sh)
  stress-ng
  # the ssh compute target drives the OpenSSH client; its tests start sshd on 127.0.0.1
  # (tests/servers/sshd.sh), never the system's service
  openssh-client openssh-server
  # runs in an environment's image on the local target: podman through scripts/podman.sh
  # (its containers.conf holds this machine's two workarounds); the tests build a tiny
  # image from busybox-static
  podman busybox-static
  # the dashboard's browser tests drive Debian's Chromium (never a downloaded browser)
  chromium
)
# the dashboard (web/) is bundled with npm packages: any Node 18+ will do, Debian's when none is found
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# tests: `amlc render` output is read back by kubectl offline (kubectl kustomize, create
# --dry-run=client). Any kubectl will do (e.g. google-cloud-cli's); Debian's only when none is found.
if ! command -v kubectl >/dev/null 2>&1; then
  packages+=(kubernetes-client)
fi

# web/node_modules from web/package-lock.json (npm ci), after which the build and the
# browser tests need no network; skipped while node_modules matches the lockfile.
install_web_packages() {
  local web
  web="$(dirname "$0")/../web"
  if [ "$web/node_modules/.package-lock.json" -nt "$web/package-lock.json" ]; then return 0; fi
  echo "install-deps: npm ci in web/ (the dashboard's packages)"
  (cd "$web" && npm ci --no-audit --no-fund)
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  install_web_packages
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages with services (openssh-server) must not start them: the tests start their own
# servers on loopback. policy-rc.d answering 101 tells Debian's maintainer scripts so.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_web_packages

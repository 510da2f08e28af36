#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test (CTest prints the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DAMLC_WERROR=ON
ctest --test-dir build --output-on-failure -j "$(nproc)"

#!/usr/bin/env bash
# Writes a man page per visible amlc command into OUT (amlc.1, amlc-plan.1,
# amlc-runs-list.1, ...) with help2man, from the binary's own --help. The
# command list comes from `amlc completion commands`, which reads the CLI11
# definition, so a new subcommand gets its page by itself. The pages' date is
# $SOURCE_DATE_EPOCH, else the commit's time, so a build is reproducible.
# Usage: gen_man_pages.sh AMLC_BINARY OUT_DIR
set -euo pipefail
amlc=$(readlink -f "$1")
out=$2
source_dir=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$source_dir" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
version=$("$amlc" version | awk '{print $2}')
wrappers=$(mktemp -d)
trap 'rm -rf "$wrappers"' EXIT
mkdir -p "$out"
rm -f "$out"/amlc*.1

# page NAME "DESCRIPTION" ARGS...: help2man runs "$wrappers/NAME --help".
page() {
  local name=$1 description=$2
  shift 2
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$amlc" "$*" > "$wrappers/$name"
  chmod +x "$wrappers/$name"
  help2man --no-info --no-discard-stderr --version-string="$version" --name="$description" \
    --section=1 --source="amlc $version" --manual="amlc manual" \
    --output="$out/$name.1" "$wrappers/$name"
}

page amlc "declarative ML platform: plan and apply ML workspace specs"
"$amlc" completion commands | while IFS=$'\t' read -r command description; do
  page "amlc-${command// /-}" "${description:-amlc $command}" $command
done

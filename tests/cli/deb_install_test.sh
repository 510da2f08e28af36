#!/usr/bin/env bash
# The Debian package, from the outside: `cpack -G DEB` in the build folder, its
# declared dependencies, `dpkg -x` into a clean folder, and the quickstart run
# from that folder alone (the source and build trees hidden under empty
# mounts in a private mount namespace, so no file of theirs can be used).
# Usage: deb_install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(readlink -f "$1")
source_dir=$(readlink -f "$2")
work=$(mktemp -d /tmp/amlc-deb-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/pkg/amlc_*.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for needed in python3 libgit2 libsqlite3 libpq5 libyaml-cpp libarchive libssl3 libstdc++6; do
  [[ "$depends" == *"$needed"* ]] || fail "Depends does not name $needed"
done
dpkg-deb -c "$deb" > "$work/contents"
for path in ./usr/bin/amlc ./usr/share/amlc/python/amlc/scoring.py ./usr/share/man/man1/amlc-plan.1 \
            ./usr/share/bash-completion/completions/amlc ./usr/share/zsh/vendor-completions/_amlc \
            ./usr/share/fish/vendor_completions.d/amlc.fish ./usr/share/amlc/examples/quickstart/train.yaml; do
  grep -q " $path\$" "$work/contents" || grep -q " $path " "$work/contents" || fail "the package lacks $path"
done
root="$work/root"
dpkg -x "$deb" "$root"

cat > "$work/quickstart.sh" <<SCRIPT
set -euo pipefail
cd "$work"
cp -r "$root/usr/share/amlc/examples/quickstart" specs
export AMLC_WORKSPACE="$work/workspace"
amlc version
amlc validate specs
amlc apply specs --auto-approve
amlc endpoints invoke iris --request-file specs/sample-request.json | tee invoke.out
grep -q '"predictions"' invoke.out || grep -q '\[' invoke.out
MANPATH="$root/usr/share/man" man -w amlc-plan
amlc destroy specs --auto-approve
SCRIPT

hide="mount -t tmpfs none '$source_dir'"
case "$build/" in "$source_dir"/*) ;; *) hide="$hide && mount -t tmpfs none '$build'" ;; esac
unshare -m --propagation private bash -c "$hide && exec env -i PATH='$root/usr/bin:/usr/bin:/bin' \
  HOME='$work' bash '$work/quickstart.sh'" || fail "the quickstart from the installed package"
echo "PASS: the .deb installs and runs the quickstart without the build tree"

#!/bin/sh
# podman as amlc runs it: with scripts/containers.conf, and in a mount namespace
# of its own where the cgroup v2 "unified" hierarchy of a hybrid cgroup setup is
# unmounted ("crun: cgroups in hybrid mode not supported, drop all controllers
# from cgroupv2"). --propagation unchanged keeps the network namespaces and
# mounts podman makes visible to its later calls. The machine's own mounts are
# not changed. AMLC_PODMAN_ROOT / AMLC_PODMAN_RUNROOT choose another store.
here="$(cd "$(dirname "$0")" && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
set -- ${AMLC_PODMAN_ROOT:+--root "$AMLC_PODMAN_ROOT"} ${AMLC_PODMAN_RUNROOT:+--runroot "$AMLC_PODMAN_RUNROOT"} "$@"
exec unshare -m --propagation unchanged sh -c \
  'if [ -d /sys/fs/cgroup/unified ]; then umount /sys/fs/cgroup/unified 2>/dev/null; fi; exec podman "$@"' podman "$@"

#!/usr/bin/env bash
# A two-node Slurm cluster on this machine for amlc's Slurm tests (CTest fixture "slurm").
#
#   slurm.sh start DIR        starts munged (its own key and socket), slurmctld and two slurmd
#                             (nodes node1 and node2, Slurm's multiple-slurmd support: one
#                             host, one port each) on 127.0.0.1 with ports the kernel picks,
#                             all state under DIR. Returns once both nodes are idle. Writes
#                             DIR/slurm.conf (export SLURM_CONF=DIR/slurm.conf to use it).
#   slurm.sh stop DIR         stops every daemon by the PID recorded in DIR/*.pid, removes DIR.
#   slurm.sh restart-ctld DIR stops slurmctld and starts it again on the same state.
#   slurm.sh kill-node DIR N  kills node N's slurmd with SIGKILL (a node failure).
#   slurm.sh start-node DIR N starts node N's slurmd again and waits until it is back.
#   slurm.sh wait-idle DIR    waits until both nodes are idle (no job left on them).
#
# The slurmd bind 127.0.0.1 (CommunicationParameters=NoInAddrAny); slurmctld listens on all
# addresses whatever the configuration says (Slurm 22.05 has no setting for it), on a port the
# kernel picked, and munge's key is new for each start, so nothing else can talk to it.
# Nodes are declared down after SlurmdTimeout=6 s without an answer, jobs are not requeued
# by default, and finished jobs stay visible to squeue/scontrol for MinJobAge=300 s.
# Without Slurm installed, start writes the reason to DIR/unavailable and succeeds: the tests
# then skip, saying why.
#
# Accounting: when slurmdbd and mariadb-server are installed, start also brings up a MariaDB
# of its own (an empty data folder DIR/mariadb, TCP on 127.0.0.1 at a port the kernel picked,
# --skip-grant-tables: no users, no system tables; nothing else can reach it) and slurmdbd on 127.0.0.1, registers the
# cluster with `sacctmgr -i add cluster amlctest` and sets
# AccountingStorageType=accounting_storage/slurmdbd, so sacct answers for jobs slurmctld has
# forgotten. Without them the cluster runs with accounting_storage/none and DIR/no-accounting
# says why (the sacct tests then skip).
#   slurm.sh set-min-job-age DIR S  sets MinJobAge to S seconds in slurm.conf and reconfigures.
set -euo pipefail

die() { echo "slurm.sh: $*" >&2; exit 1; }

# shellcheck source=processes.sh
. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

# Stops the process in PIDFILE if it still runs a program named PROGRAM; waits for it.
stop_pidfile() {
  local pidfile="$1" program="$2" signal="${3:-TERM}" pid
  [ -e "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  rm -f "$pidfile"
  [ -n "$pid" ] && running "$pid" || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$program" || return 0
  kill "-$signal" "$pid" 2>/dev/null || return 0
  for _ in $(seq 200); do running "$pid" || return 0; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

launch() {  # NAME PIDFILE COMMAND...: starts COMMAND in its own session, records its PID
  local name="$1" pidfile="$2"
  shift 2
  setsid "$@" >"$DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

node_state() { sinfo -h -n "$1" -o %T 2>/dev/null || true; }

wait_idle() {
  local node
  for node in node1 node2; do
    for _ in $(seq 600); do
      [ "$(node_state "$node")" = idle ] && continue 2
      sleep 0.1
    done
    tail -20 "$DIR/log/slurmctld.log" >&2 || true
    die "node $node is not idle after 60 s (state: $(node_state "$node"))"
  done
}

start_ctld() {
  launch slurmctld "$DIR/slurmctld.pid" /usr/sbin/slurmctld -D -f "$DIR/slurm.conf"
  for _ in $(seq 300); do
    scontrol ping 2>/dev/null | grep -q UP && return 0
    running "$(cat "$DIR/slurmctld.pid")" || break
    sleep 0.1
  done
  cat "$DIR/log/slurmctld.out" >&2
  die "slurmctld did not answer within 30 s"
}

start_accounting() {  # MariaDB + slurmdbd; prints the slurm.conf lines for accounting
  local db_port dbd_port
  if ! [ -x /usr/sbin/slurmdbd ] || ! [ -x /usr/sbin/mariadbd ] || ! command -v sacctmgr >/dev/null; then
    echo "slurmdbd and mariadb-server are not installed (run scripts/install-deps.sh)" >"$DIR/no-accounting"
    echo "slurm.sh: $(cat "$DIR/no-accounting"); no accounting, the sacct tests will skip" >&2
    echo "AccountingStorageType=accounting_storage/none"
    return 0
  fi
  db_port="$(free_port)"; dbd_port="$(free_port)"
  # An empty data folder: with --skip-grant-tables mariadbd needs none of the system tables
  # mariadb-install-db would make (5 s here), only slurmdbd's own database, which it creates.
  mkdir -p "$DIR/mariadb/data"
  launch mariadbd "$DIR/mariadbd.pid" /usr/sbin/mariadbd --no-defaults --user=root \
    --datadir="$DIR/mariadb/data" --socket="$DIR/mariadb/mysqld.sock" --port="$db_port" \
    --bind-address=127.0.0.1 --skip-grant-tables --pid-file="$DIR/mariadb/mysqld.daemon.pid" \
    --log-error="$DIR/log/mariadb.log" --innodb-buffer-pool-size=32M --innodb-log-file-size=16M \
    --innodb-lock-wait-timeout=900 --skip-log-bin
  for _ in $(seq 300); do
    [ -S "$DIR/mariadb/mysqld.sock" ] && break
    running "$(cat "$DIR/mariadbd.pid")" || break
    sleep 0.1
  done
  [ -S "$DIR/mariadb/mysqld.sock" ] || { tail -20 "$DIR/log/mariadb.log" >&2; die "mariadbd did not start"; }
  cat >"$DIR/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.sock
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
DebugLevel=info
LogFile=$DIR/log/slurmdbd.log
PidFile=$DIR/slurmdbd.daemon.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=root
StorageLoc=slurm_acct_db
CONF
  chown root "$DIR/slurmdbd.conf"
  chmod 600 "$DIR/slurmdbd.conf"
  # slurmdbd has no -f: it reads slurmdbd.conf from the folder of $SLURM_CONF.
  launch slurmdbd "$DIR/slurmdbd.pid" /usr/sbin/slurmdbd -D
  for _ in $(seq 300); do
    ss -ltn 2>/dev/null | grep -q ":$dbd_port " && break
    running "$(cat "$DIR/slurmdbd.pid")" || break
    sleep 0.1
  done
  ss -ltn | grep -q ":$dbd_port " || { cat "$DIR/log/slurmdbd.out" "$DIR/log/slurmdbd.log" >&2; die "slurmdbd did not start"; }
  cat <<CONF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
AccountingStoragePass=$DIR/munge/munge.sock
CONF
}

register_cluster() {
  [ -e "$DIR/no-accounting" ] && return 0
  sacctmgr -i add cluster amlctest >"$DIR/log/sacctmgr.out" 2>&1 \
    || { cat "$DIR/log/sacctmgr.out" >&2; die "sacctmgr could not register the cluster"; }
}

start_node() {
  local node="$1"
  launch "slurmd-$node" "$DIR/slurmd-$node.pid" /usr/sbin/slurmd -D -N "$node" -f "$DIR/slurm.conf"
}

write_config() {  # ACCOUNTING_LINES
  local ctld_port node1_port node2_port
  ctld_port="$(free_port)"; node1_port="$(free_port)"; node2_port="$(free_port)"
  cat >"$DIR/slurm.conf" <<CONF
ClusterName=amlctest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.sock
CommunicationParameters=NoInAddrAny
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
$1
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=sched_min_interval=100000
ReturnToService=2
SlurmdTimeout=6
MessageTimeout=3
KillWait=2
JobRequeue=0
SlurmctldPidFile=$DIR/slurmctld.daemon.pid
SlurmdPidFile=$DIR/slurmd-%n.daemon.pid
SlurmdSpoolDir=$DIR/spool/%n
StateSaveLocation=$DIR/state
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldPort=$ctld_port
SlurmdPort=$node1_port
SlurmctldDebug=info
SlurmdDebug=info
MinJobAge=300
MailProg=/bin/true
NodeName=node1 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$node1_port CPUs=2 RealMemory=2000 Feature=small State=UNKNOWN
NodeName=node2 NodeHostname=localhost NodeAddr=127.0.0.1 Port=$node2_port CPUs=2 RealMemory=2000 Feature=small State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  stop_all
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    rm -rf "$DIR" && mkdir -p "$DIR"
    echo "slurm-wlm and munge are not installed (run scripts/install-deps.sh)" >"$DIR/unavailable"
    echo "slurm.sh: $(cat "$DIR/unavailable"); the Slurm tests will skip" >&2
    return 0
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"/{munge,state,spool,log}
  DIR="$(cd "$DIR" && pwd)"
  chmod 700 "$DIR/munge"
  head -c 1024 /dev/urandom >"$DIR/munge/munge.key"
  chmod 600 "$DIR/munge/munge.key"
  # -f: munged refuses, as root, a socket folder under a world-writable one (/tmp) without it.
  launch munged "$DIR/munged.pid" /usr/sbin/munged -F -f --socket="$DIR/munge/munge.sock" \
    --key-file="$DIR/munge/munge.key" --pid-file="$DIR/munge/munged.daemon.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
  for _ in $(seq 100); do [ -S "$DIR/munge/munge.sock" ] && break; sleep 0.05; done
  [ -S "$DIR/munge/munge.sock" ] || { cat "$DIR/log/munged.out" >&2; die "munged did not start"; }
  export SLURM_CONF="$DIR/slurm.conf"
  local accounting
  # slurm.conf must exist before slurmdbd and sacctmgr start: they read it through SLURM_CONF.
  write_config "AccountingStorageType=accounting_storage/none"
  accounting="$(start_accounting)"
  write_config "$accounting"
  register_cluster
  start_ctld
  start_node node1
  start_node node2
  wait_idle
  echo "slurm.sh: cluster up in $DIR (SLURM_CONF=$DIR/slurm.conf): $(sinfo -h -o '%P %D %T %N')"
}

stop_all() {
  [ -d "$DIR" ] || return 0
  stop_pidfile "$DIR/slurmd-node1.pid" slurmd
  stop_pidfile "$DIR/slurmd-node2.pid" slurmd
  stop_pidfile "$DIR/slurmctld.pid" slurmctld
  stop_pidfile "$DIR/slurmdbd.pid" slurmdbd
  stop_pidfile "$DIR/mariadbd.pid" mariadbd
  stop_pidfile "$DIR/munged.pid" munged
}

[ $# -ge 2 ] || die "usage: slurm.sh start|stop|restart-ctld|kill-node|start-node|wait-idle DIR [NODE]"
command="$1"
DIR="$2"
export SLURM_CONF="$DIR/slurm.conf"
case "$command" in
  start) start ;;
  stop) stop_all; rm -rf "$DIR" ;;
  restart-ctld)
    stop_pidfile "$DIR/slurmctld.pid" slurmctld
    start_ctld
    ;;
  kill-node) [ $# -eq 3 ] || die "usage: slurm.sh kill-node DIR NODE"; stop_pidfile "$DIR/slurmd-$3.pid" slurmd KILL ;;
  start-node)
    [ $# -eq 3 ] || die "usage: slurm.sh start-node DIR NODE"
    start_node "$3"
    for _ in $(seq 600); do
      case "$(node_state "$3")" in idle|mixed|allocated) exit 0 ;; esac
      sleep 0.1
    done
    die "node $3 did not come back within 60 s (state: $(node_state "$3"))"
    ;;
  wait-idle) wait_idle ;;
  set-min-job-age)
    [ $# -eq 3 ] || die "usage: slurm.sh set-min-job-age DIR SECONDS"
    sed -i "s/^MinJobAge=.*/MinJobAge=$3/" "$DIR/slurm.conf"
    scontrol reconfigure
    ;;
  *) die "unknown command '$command'" ;;
esac

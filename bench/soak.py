#!/usr/bin/env python3
"""Soak: the quickstart endpoint under mixed good and bad traffic, with kills.

Applies examples/quickstart into a scratch workspace, then for --minutes:
  - good clients send valid scoring requests with the deployment's key and
    count every answer that is not 200 (or a timeout, a reset) as a failure;
  - bad clients send what hostile clients send (no key, a wrong key, an
    oversize body, broken JSON, no Content-Length, a garbage request line,
    too many headers, slow heads) and count answers other than the expected
    4xx as unexpected;
  - a chaos loop kills (SIGKILL) a scoring worker, a replica or the endpoint
    host at random; after a host kill it runs `amlc apply`, as the reconciler
    would on its next pass, and times how long serving was down;
  - a sampler reads the resident memory of the host and of its whole process
    tree (replicas and workers) once a second.
Good requests that fail while the killed host is down are counted apart
(nothing listens then; that window is the restore time), so the headline
number is the good requests that failed while a host was up.

    python3 bench/soak.py --minutes 30            # the full soak (not in CI)
    python3 bench/soak.py --minutes 2 --json      # a short run, one JSON line

Exit status: 0 whatever the numbers (they are reported, not enforced), 1 when
the quickstart cannot be applied or the endpoint never answers.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--amlc", default=os.path.join(ROOT, "build/cli/amlc"))
    parser.add_argument("--good-clients", type=int, default=4)
    parser.add_argument("--bad-clients", type=int, default=2)
    parser.add_argument("--kill-every", type=float, default=20.0, help="mean seconds between kills")
    parser.add_argument("--host-kill-share", type=float, default=0.15,
                        help="share of kills that take the endpoint host (the rest: replicas and workers)")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a good request may take")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder and the endpoint")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args(argv)


def log(message):
    print(time.strftime("%H:%M:%S ") + message, file=sys.stderr, flush=True)


class Quickstart:
    """The quickstart applied into a scratch folder, and how to reach its endpoint."""

    def __init__(self, amlc, folder):
        self.amlc = amlc
        self.specs = os.path.join(folder, "specs")
        shutil.copytree(os.path.join(ROOT, "examples/quickstart"), self.specs)
        self.workspace = os.path.join(folder, "workspace")
        self.env = dict(os.environ, AMLC_WORKSPACE=self.workspace)

    def amlc_run(self, *args):
        return subprocess.run([self.amlc, *args], env=self.env, capture_output=True, text=True, timeout=600)

    def apply(self):
        return self.amlc_run("apply", self.specs, "--auto-approve")

    def destroy(self):
        return self.amlc_run("destroy", self.specs, "--auto-approve")

    def key_and_address(self):
        keys = json.loads(self.amlc_run("deployments", "keys", "blue", "--json").stdout)
        uri = json.loads(self.amlc_run("deployments", "list", "--json").stdout)[0]["scoring_uri"]
        host_port, path = uri.split("://", 1)[1].split("/", 1)
        host, port = host_port.rsplit(":", 1)
        return keys["primary"], host, int(port), "/" + path

    def host_pid(self):
        try:
            with open(os.path.join(self.workspace, "endpoints/iris/endpoint-host.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0


def children_by_parent():
    tree = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def descendants(pid, tree):
    """(depth, pid) of every process under `pid`: 1 = replicas, 2 = their workers."""
    found, frontier = [], [(0, pid)]
    while frontier:
        depth, parent = frontier.pop()
        for child in tree.get(parent, []):
            found.append((depth + 1, child))
            frontier.append((depth + 1, child))
    return found


def rss_bytes(pid):
    try:
        with open("/proc/%d/statm" % pid) as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.examples = {}

    def add(self, name, example=None):
        with self.lock:
            self.values[name] = self.values.get(name, 0) + 1
            if example and name not in self.examples:
                self.examples[name] = example

    def get(self, name):
        with self.lock:
            return self.values.get(name, 0)


class Soak:
    def __init__(self, args, quickstart):
        self.args = args
        self.quickstart = quickstart
        self.key, self.host, self.port, self.path = quickstart.key_and_address()
        self.body = open(os.path.join(ROOT, "examples/quickstart/sample-request.json"), "rb").read()
        self.counters = Counters()
        self.host_down = threading.Event()  # set from a host kill until apply restored it
        self.stop = threading.Event()
        self.peak_host_rss = 0
        self.peak_tree_rss = 0
        self.restore_seconds = []
        self.kills = {"worker": 0, "replica": 0, "host": 0}
        self.random = random.Random(args.seed)

    # Good traffic -----------------------------------------------------------
    def good_client(self):
        while not self.stop.is_set():
            down = self.host_down.is_set()
            outcome = self.score(self.body, {"Authorization": "Bearer " + self.key})
            if outcome == 200:
                self.counters.add("good_ok")
            elif down or self.host_down.is_set():
                self.counters.add("good_failed_host_down")
            else:
                self.counters.add("good_failed", "%s at %s" % (outcome, time.strftime("%H:%M:%S")))

    def score(self, body, headers):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.args.timeout)
        try:
            connection.request("POST", self.path, body=body, headers=dict(headers, **{"Content-Type": "application/json"}))
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
        finally:
            connection.close()

    # Bad traffic ------------------------------------------------------------
    def bad_requests(self):
        """(name, raw request bytes, the statuses a sound server answers)."""
        auth = "Authorization: Bearer %s\r\n" % self.key
        head = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" % self.path
        return [
            ("no key", (head + "Content-Length: 2\r\n\r\n{}").encode(), {401}),
            ("wrong key", (head + "Authorization: Bearer nope\r\nContent-Length: 2\r\n\r\n{}").encode(), {401}),
            ("oversize body", (head + auth + "Content-Length: 1000000000\r\n\r\n").encode(), {413}),
            ("broken json", (head + auth + "Content-Length: 9\r\n\r\n{\"data\": [").encode(), {400, 422, 500}),
            ("no length", (head + auth + "\r\n").encode(), {411}),
            ("garbage line", b"\x16\x03\x01 nonsense\r\n\r\n", {400}),
            ("many headers", (head + auth + "".join("X-%d: y\r\n" % i for i in range(500)) +
                              "Content-Length: 2\r\n\r\n{}").encode(), {431}),
        ]

    def bad_client(self):
        requests = self.bad_requests()
        while not self.stop.is_set():
            name, raw, expected = self.random.choice(requests)
            if self.host_down.is_set():
                time.sleep(0.05)
                continue
            status = self.send_raw(raw)
            self.counters.add("bad_sent")
            if status not in expected and not self.host_down.is_set():
                self.counters.add("bad_unexpected", "%s -> %s" % (name, status))
            self.slow_head()

    def send_raw(self, raw):
        try:
            with socket.create_connection((self.host, self.port), timeout=10) as sock:
                sock.sendall(raw)
                answer = sock.recv(64)
            parts = answer.split(b" ", 2)
            return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else "no answer"
        except OSError as error:
            return type(error).__name__

    def slow_head(self):
        """Now and then, a client that sends half a head and walks away later."""
        if self.random.random() > 0.05:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n" % self.path).encode())
            threading.Timer(15, sock.close).start()
        except OSError:
            pass

    # Kills ------------------------------------------------------------------
    def chaos(self):
        while not self.stop.wait(self.random.expovariate(1.0 / self.args.kill_every)):
            host = self.quickstart.host_pid()
            if host <= 0:
                continue
            if self.random.random() < self.args.host_kill_share:
                self.kill_host(host)
                continue
            tree = descendants(host, children_by_parent())
            wanted = 2 if self.random.random() < 0.6 else 1
            victims = [pid for depth, pid in tree if depth == wanted]
            if victims:
                os.kill(self.random.choice(victims), signal.SIGKILL)
                self.kills["worker" if wanted == 2 else "replica"] += 1

    def kill_host(self, pid):
        self.host_down.set()
        tree = descendants(pid, children_by_parent())
        os.kill(pid, signal.SIGKILL)
        self.kills["host"] += 1
        start = time.monotonic()
        applied = self.quickstart.apply()
        if applied.returncode != 0:
            log("apply after a host kill failed: " + applied.stdout[-400:] + applied.stderr[-400:])
        while self.score(self.body, {"Authorization": "Bearer " + self.key}) != 200 and not self.stop.is_set():
            time.sleep(0.1)
        self.restore_seconds.append(time.monotonic() - start)
        self.host_down.clear()
        # The old host's replicas end with their parent; any left over would be a leak.
        time.sleep(2)
        leftovers = [p for _, p in tree if os.path.exists("/proc/%d" % p)]
        if leftovers:
            self.counters.add("orphans_after_host_kill", str(leftovers))

    # Memory -----------------------------------------------------------------
    def sampler(self):
        while not self.stop.wait(1.0):
            host = self.quickstart.host_pid()
            if host <= 0:
                continue
            host_rss = rss_bytes(host)
            tree_rss = host_rss + sum(rss_bytes(p) for _, p in descendants(host, children_by_parent()))
            self.peak_host_rss = max(self.peak_host_rss, host_rss)
            self.peak_tree_rss = max(self.peak_tree_rss, tree_rss)

    def run(self):
        threads = [threading.Thread(target=self.good_client) for _ in range(self.args.good_clients)]
        threads += [threading.Thread(target=self.bad_client) for _ in range(self.args.bad_clients)]
        threads += [threading.Thread(target=self.chaos), threading.Thread(target=self.sampler)]
        for thread in threads:
            thread.daemon = True
            thread.start()
        end = time.monotonic() + self.args.minutes * 60
        while time.monotonic() < end:
            time.sleep(min(30, max(0, end - time.monotonic())))
            log("good ok %d, failed %d (+%d while the host was down), bad %d (unexpected %d), kills %s" % (
                self.counters.get("good_ok"), self.counters.get("good_failed"),
                self.counters.get("good_failed_host_down"), self.counters.get("bad_sent"),
                self.counters.get("bad_unexpected"), self.kills))
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)

    def report(self):
        values = self.counters.values
        restore = sorted(self.restore_seconds)
        return {
            "minutes": self.args.minutes,
            "good_requests": values.get("good_ok", 0) + values.get("good_failed", 0) + values.get("good_failed_host_down", 0),
            "good_failed_while_host_up": values.get("good_failed", 0),
            "good_failed_while_host_down": values.get("good_failed_host_down", 0),
            "bad_requests": values.get("bad_sent", 0),
            "bad_unexpected_answers": values.get("bad_unexpected", 0),
            "kills": self.kills,
            "host_restore_seconds_max": round(restore[-1], 2) if restore else None,
            "host_restore_seconds_median": round(restore[len(restore) // 2], 2) if restore else None,
            "orphans_after_host_kill": values.get("orphans_after_host_kill", 0),
            "peak_host_rss_mb": round(self.peak_host_rss / 2**20, 1),
            "peak_tree_rss_mb": round(self.peak_tree_rss / 2**20, 1),
            "first_examples": self.counters.examples,
        }


def main(argv):
    args = parse_args(argv)
    folder = tempfile.mkdtemp(prefix="amlc-soak-")
    quickstart = Quickstart(args.amlc, folder)
    log("applying the quickstart into " + folder)
    applied = quickstart.apply()
    if applied.returncode != 0:
        print(applied.stdout + applied.stderr, file=sys.stderr)
        return 1
    soak = Soak(args, quickstart)
    if soak.score(soak.body, {"Authorization": "Bearer " + soak.key}) != 200:
        print("soak: the endpoint does not answer", file=sys.stderr)
        return 1
    try:
        soak.run()
    finally:
        report = soak.report()
        if not args.keep:
            quickstart.destroy()
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print("%-30s %s" % (name, value))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

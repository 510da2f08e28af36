"""A run's records sent to ``amlc server`` over HTTP, for scripts whose compute
does not share the workspace folder (AMLC_SERVER and AMLC_RUN_TOKEN set).

The run context formats the same lines as for the tracking file and batches
them the same way (1000 records or 0.5 s); a batch, instead of being written,
becomes requests in record order: consecutive points of one run are one
``POST /api/v1/runs/ID/metrics`` (with this process's key for the batch, so a
retry is stored once), consecutive tags or params one request, a file one
``PUT .../outputs/PATH``, a child run one ``POST .../children``. One sender
thread sends them in order, so the script never waits on the network but in
``flush()`` and at exit. Connection errors, 429 and 5xx are retried with
backoff (0.2 s doubling to 5 s) for up to AMLC_REPORT_RETRY_SECONDS (600);
other answers (401 after the run ended, 403, 400) are reported on stderr and
the request dropped. Only the standard library is used.
"""

import collections
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from amlc import _run

REQUEST_TIMEOUT = 60       # seconds per attempt
FIRST_DELAY = 0.2          # seconds before the first retry, doubled each time
MAX_DELAY = 5.0
_RETRIED_STATUSES = frozenset((429, 500, 502, 503, 504))


class _Request:
    """One call: ``body`` is bytes, or a path read when it is sent (a file)."""

    __slots__ = ("method", "path", "body", "content_type", "file")

    def __init__(self, method, path, body=None, content_type="application/json", file=None):
        self.method = method
        self.path = path
        self.body = body
        self.content_type = content_type
        self.file = file


def _json_request(method, path, value):
    return _Request(method, path, json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _quote(run_id):
    return urllib.parse.quote(run_id, safe="")


class Client:
    """Sends requests to the server, retrying what a later attempt may fix."""

    def __init__(self, server, token, retry_seconds):
        self.base = server.rstrip("/")
        self.token = token
        self.retry_seconds = retry_seconds
        self.unreachable = False  # a request gave up: the next ones get one attempt until one lands
        cafile = os.environ.get("AMLC_SERVER_CA") or None
        self.context = ssl.create_default_context(cafile=cafile) if self.base.startswith("https:") else None

    def _attempt(self, request):
        body = request.body
        if request.file is not None:
            with open(request.file, "rb") as source:
                body = source.read()
        call = urllib.request.Request(self.base + request.path, data=body, method=request.method, headers={
            "Authorization": "Bearer " + self.token, "Content-Type": request.content_type})
        with urllib.request.urlopen(call, timeout=REQUEST_TIMEOUT, context=self.context) as answer:
            answer.read()

    def send(self, request):
        """True once the server took it; False when it was refused or retries ran out."""
        deadline = time.monotonic() + (0 if self.unreachable else self.retry_seconds)
        delay = FIRST_DELAY
        while True:
            try:
                self._attempt(request)
                self.unreachable = False
                return True
            except urllib.error.HTTPError as error:
                if error.code not in _RETRIED_STATUSES:
                    _warn("%s %s was refused (%d): %s" % (request.method, request.path, error.code,
                                                          _message(error)))
                    return False
                reason = "HTTP %d" % (error.code,)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                reason = str(getattr(error, "reason", error))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.unreachable = True
                _warn("gave up sending %s %s to %s: %s" % (request.method, request.path, self.base, reason))
                return False
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)


def _message(error):
    try:
        return json.loads(error.read().decode("utf-8", "replace")).get("message", "")
    except Exception:  # an answer that is not ours
        return error.reason


def _warn(text):
    sys.stderr.write("amlc: " + text + "\n")


class HttpSink(_run._Sink):
    """The pending lines of a run's process, sent to the server instead of a file."""

    def __init__(self, server, token, run_id, outputs_dir, retry_seconds):
        _run._Sink.__init__(self, None, outputs_dir or os.path.abspath("outputs"))
        self.path = server
        self.online = True
        self.run_id = run_id
        self.client = Client(server, token, retry_seconds)
        self.key = uuid.uuid4().hex[:16]  # this process's batches: KEY-1, KEY-2, ...
        self.sequence = 0
        self.outbox = collections.deque()
        self.sent = threading.Condition()
        self._start_flusher()
        self._start_sender()

    # -- batches into requests ------------------------------------------------

    def flush_locked(self):
        """Turns every pending line into requests for the sender; the caller holds the lock."""
        self.last = _run._monotonic()
        if not self.buf:
            return
        lines = list(self.buf)
        del self.buf[:]
        requests = self._requests(lines)
        with self.sent:
            self.outbox.extend(requests)
            self.sent.notify_all()

    def _requests(self, lines):
        requests, group = [], None  # group: [type, run, records] of consecutive records
        for line in lines:
            record = json.loads(line)
            kind = record.get("t")
            if kind in ("metric", "tag", "param"):
                if group and group[0] == kind and group[1] == record["run"]:
                    group[2].append(record)
                    continue
                if group:
                    requests.append(self._grouped(*group))
                group = [kind, record["run"], [record]]
                continue
            if group:
                requests.append(self._grouped(*group))
                group = None
            request = self._single(kind, record)
            if request is not None:
                requests.append(request)
        if group:
            requests.append(self._grouped(*group))
        return requests

    def _grouped(self, kind, run, records):
        path = "/api/v1/runs/%s/" % (_quote(run),)
        if kind == "metric":
            self.sequence += 1
            points = [{k: v for k, v in record.items() if k not in ("t", "run")} for record in records]
            return _json_request("POST", path + "metrics", {
                "batch": "%s-%d" % (self.key, self.sequence), "metrics": points})
        values = {record["key"]: record["value"] for record in records}
        return _json_request("POST", path + kind + "s", {kind + "s": values})

    def _single(self, kind, record):
        if kind == "child":
            return _json_request("POST", "/api/v1/runs/%s/children" % (_quote(record["parent"]),),
                                 {"id": record["run"], "name": record["name"]})
        if kind == "file":  # every file goes to the top-level run's outputs, children's under _children/
            return _Request("PUT", "/api/v1/runs/%s/outputs/%s" % (
                _quote(self.run_id), urllib.parse.quote(record["path"], safe="/")),
                content_type="application/octet-stream",
                file=os.path.join(self.outputs_dir, *record["path"].split("/")))
        if kind == "status" and record["run"] != self.run_id:
            return _json_request("POST", "/api/v1/runs/%s/status" % (_quote(record["run"]),),
                                 {"status": record["status"], "message": record["message"]})
        return None  # the top-level run's status: its command's exit decides, as with the file

    # -- sending --------------------------------------------------------------

    def _start_sender(self):
        self._sender = threading.Thread(target=self._send_all, name="amlc-send", daemon=True)
        self._sender.start()

    def _send_all(self):
        while True:
            with self.sent:
                while not self.outbox:
                    self.sent.wait()
                request = self.outbox[0]
            self.client.send(request)
            with self.sent:
                self.outbox.popleft()
                self.sent.notify_all()

    def flush(self):
        """Sends every pending record and waits until the server has them (or retries ran out)."""
        with self.lock:
            self.flush_locked()
        with self.sent:
            while self.outbox:
                self.sent.wait()

    def close(self):
        self.flush()
        with self.lock:
            self.closed = True
            if self._wake is not None:
                self._wake.set()
        _run._SINKS.discard(self)

    def _after_fork_in_child(self):
        # The parent sent what was pending before forking; the child gets its
        # own batch keys, queue and threads.
        _run._Sink._after_fork_in_child(self)
        self.key = uuid.uuid4().hex[:16]
        self.sequence = 0
        self.outbox = collections.deque()
        self.sent = threading.Condition()
        self._start_sender()


def open_remote(run_id, experiment, server, token, outputs_dir=None):
    """A run context sending its records to the workspace server at ``server``."""
    retry_seconds = float(os.environ.get("AMLC_REPORT_RETRY_SECONDS") or 600)
    sink = HttpSink(server, token, run_id, outputs_dir and os.path.abspath(outputs_dir), retry_seconds)
    return _run.Run(run_id, experiment, sink)

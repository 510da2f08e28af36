"""Runs an Azure ML scoring script: ``init()`` once per process, ``run(raw_data)`` per request.

Two ways to start it:

``python3 -m amlc.scoring --worker``
    The worker side of ``amlc serve``: the C++ host owns the HTTP port and
    hands requests to N such processes over pipes (protocol below).

``python3 -m amlc.scoring``
    A standalone threaded HTTP server (standard library only) with the same
    routes as ``amlc serve`` except ``/metrics``, so an OCI image whose
    entrypoint is ``python3 -m amlc.scoring`` runs without the amlc binary.
    Port from ``$AMLC_PORT`` (default 5001), host from ``$AMLC_HOST`` (default
    0.0.0.0, as in a container), entry script from ``$AMLC_SCORING_SCRIPT`` or
    ``$AZUREML_ENTRY_SCRIPT``, body limit from ``$AMLC_MAX_BODY_BYTES``
    (default 10 MiB), keys from ``$AMLC_KEYS_FILE`` (optional JSON
    ``{"primary": ..., "secondary": ...}``). One ``run()`` at a time, as in a
    worker: scripts are written assuming that.

What a script sees (Azure ML's contract): ``AZUREML_MODEL_DIR`` names the model
folder, ``AZUREML_ENTRY_SCRIPT`` the script; ``run`` gets the request body as a
``str``. What the client gets back:

* ``dict``/``list``/number/``None`` -> JSON (numpy arrays and scalars are
  converted with ``.tolist()``/``.item()``);
* ``str`` -> sent as is when it already is JSON (so the common
  ``return json.dumps(result)`` is not encoded twice), else as a JSON string;
* ``bytes`` -> sent as is, ``application/octet-stream``;
* ``ValueError``/``TypeError``/``KeyError`` raised by ``run`` (a
  ``json.JSONDecodeError`` is a ``ValueError``) -> 400 ``{"message": str(e)}``;
* any other exception -> 500 ``{"message": "ExcType: str(e)"}``; the traceback
  goes to the log, never to the client.

Worker protocol (little-endian; fd 3 = requests in, fd 4 = responses out; the
script's stdout/stderr go to the host's log):

* request:  ``<III`` kind (1 = score: the body of POST /score; 2 = http: an
  envelope), id_len, body_len; then the request id and the body bytes,
  untouched.
* envelope (a kind 2 request's body, and a content type 3 response's body):
  ``<I`` meta_len, then a JSON object of that length, then the body bytes.
  Requests: ``{"method", "path", "query", "headers"}``; responses:
  ``{"content_type", "headers"}``. Routes beyond POST /score (GET /score,
  /swagger.json, KServe v2) and answers with headers (``AMLResponse``) use it;
  see amlc/inference.py.
* response: ``<HHBxxxIII`` kind (1 = ready, 2 = init failed, 3 = result),
  HTTP status, content type (0 JSON, 1 text, 2 octet-stream, 3 envelope), run() time in
  microseconds, id_len, body_len; then the request id and the body bytes.

The worker sends one ``ready`` (or ``init failed`` with the exception's last
line, then exits 3) after ``init()``, then one ``result`` per request. The
``ready`` body is empty for a plain ``run(raw_data)``, or ``http`` when ``run``
takes the whole request (``@rawhttp``, schema decorators): the host then sends
POST /score as an envelope as well, so ``AMLRequest.headers`` holds the
request's headers. EOF on
fd 3 means the host is done: the worker exits 0.
"""

import importlib.util
import json
import os
import signal
import struct
import sys
import threading
import time
import traceback
import uuid

from amlc import inference

REQUEST = struct.Struct("<III")
ENVELOPE = struct.Struct("<I")
RESPONSE = struct.Struct("<HHBxxxIII")

KIND_SCORE = 1
READY_WANTS_HTTP = b"http"
KIND_HTTP = 2
KIND_READY = 1
KIND_INIT_FAILED = 2
KIND_RESULT = 3

CT_JSON = 0
CT_TEXT = 1
CT_OCTET = 2
CT_ENVELOPE = 3
CONTENT_TYPES = ("application/json", "text/plain; charset=utf-8", "application/octet-stream")

MAX_MESSAGE = 2000  # characters of an error message sent to the host or a client

# Exceptions that mean "the caller sent something the script cannot use".
CLIENT_ERRORS = (ValueError, TypeError, KeyError)


def _json_default(value):
    # numpy without importing it: arrays have tolist(), scalars item().
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _error_body(message):
    return json.dumps({"message": message[:MAX_MESSAGE]}).encode("utf-8")


def _exception_line(error):
    text = str(error)
    if isinstance(error, KeyError) and error.args:
        text = "missing key %r" % (error.args[0],)  # str(KeyError('a')) is just "'a'"
    return text


def encode_result(result):
    """The (content type, body) for what run() returned; raises TypeError if not serializable."""
    if isinstance(result, (bytes, bytearray, memoryview)):
        return CT_OCTET, bytes(result)
    if isinstance(result, str):
        try:
            json.loads(result)
            return CT_JSON, result.encode("utf-8")
        except ValueError:
            return CT_JSON, json.dumps(result).encode("utf-8")
    return CT_JSON, json.dumps(result, default=_json_default).encode("utf-8")


class Script:
    """The user's entry script, loaded from a file path."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.module = None
        self.run_fn = None

    def load_and_init(self):
        """Imports the script and calls its init(); exceptions propagate."""
        name = os.path.splitext(os.path.basename(self.path))[0] or "score"
        spec = importlib.util.spec_from_file_location(name, self.path)
        if spec is None or spec.loader is None:
            raise ImportError("cannot load the entry script %s" % self.path)
        module = importlib.util.module_from_spec(spec)
        # Registered so pickles of classes defined in the script can be loaded,
        # unless the name would shadow a module already imported (json, os, ...).
        sys.modules.setdefault(name, module)
        spec.loader.exec_module(module)
        run_fn = getattr(module, "run", None)
        if not callable(run_fn):
            raise AttributeError("the entry script %s defines no run(raw_data) function" % self.path)
        init_fn = getattr(module, "init", None)
        if callable(init_fn):
            init_fn()
        self.module = module
        self.run_fn = run_fn

    def score(self, body):
        """Calls run() on one request body: (HTTP status, content type, body bytes, run() µs)."""
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError as error:
            return 400, CT_JSON, _error_body("the request body is not UTF-8: %s" % error), 0
        started = time.perf_counter()
        try:
            result = self.run_fn(raw)
        except CLIENT_ERRORS as error:
            elapsed = int((time.perf_counter() - started) * 1e6)
            return 400, CT_JSON, _error_body(_exception_line(error)), elapsed
        except Exception as error:  # noqa: BLE001 - the script's failure, reported as a 500
            elapsed = int((time.perf_counter() - started) * 1e6)
            traceback.print_exc()
            message = "%s: %s" % (type(error).__name__, _exception_line(error))
            return 500, CT_JSON, _error_body(message), elapsed
        elapsed = int((time.perf_counter() - started) * 1e6)
        try:
            content_type, out = encode_result(result)
        except (TypeError, ValueError) as error:
            traceback.print_exc()
            message = "run() returned a value that cannot be sent as JSON: %s" % error
            return 500, CT_JSON, _error_body(message), elapsed
        return 200, content_type, out, elapsed


def _entry_script_path(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _last_line(error):
    lines = traceback.format_exception_only(type(error), error)
    return (lines[-1].strip() if lines else type(error).__name__)[:MAX_MESSAGE]


# ---------------------------------------------------------------------------
# Worker side of amlc serve


def _write_all(fd, parts):
    """Writes every byte of `parts` (a list of bytes) with as few syscalls as possible."""
    total = sum(len(p) for p in parts)
    written = os.writev(fd, parts)
    if written == total:
        return
    rest = memoryview(b"".join(parts))[written:]
    while rest:
        rest = rest[os.write(fd, rest):]


def _send(fd, kind, status, content_type, exec_us, request_id, body):
    header = RESPONSE.pack(kind, status, content_type, min(exec_us, 0xFFFFFFFF), len(request_id), len(body))
    _write_all(fd, [header, request_id, body])


def _send_answer(fd, request_id, answer):
    """Sends inference.handle's answer: plainly when it has no headers, else as an envelope."""
    status, content_type, headers, body, exec_us = answer
    if not headers and content_type in CONTENT_TYPES:
        return _send(fd, KIND_RESULT, status, CONTENT_TYPES.index(content_type), exec_us, request_id, body)
    meta = json.dumps({"content_type": content_type, "headers": headers}).encode("utf-8")
    _send(fd, KIND_RESULT, status, CT_ENVELOPE, exec_us, request_id, ENVELOPE.pack(len(meta)) + meta + body)


def _open_envelope(body):
    """(meta dict, body bytes) of an envelope; raises ValueError when it is not one."""
    if len(body) < ENVELOPE.size:
        raise ValueError("short envelope")
    (length,) = ENVELOPE.unpack_from(body)
    meta = json.loads(body[ENVELOPE.size:ENVELOPE.size + length].decode("utf-8"))
    return meta, body[ENVELOPE.size + length:]


def _is_plain(script):
    """True when run(raw_data) takes the body as it is (no @rawhttp, no schema decorators)."""
    run = script.run_fn
    return not (getattr(run, "__amlc_rawhttp__", False) or getattr(run, "_rawhttp", False) or
                hasattr(run, "__wrapped__"))


def worker_main():
    # Private copies of the pipes (os.dup gives non-inheritable descriptors),
    # so processes the script starts cannot hold them open.
    in_fd, out_fd = os.dup(3), os.dup(4)
    os.close(3)
    os.close(4)
    reader = os.fdopen(in_fd, "rb", buffering=1 << 16)
    path = _entry_script_path("AZUREML_ENTRY_SCRIPT", "AMLC_SCORING_SCRIPT")
    script = Script(path or "score.py")
    inference.install_shims()
    try:
        script.load_and_init()
    except BaseException as error:  # noqa: BLE001 - includes SystemExit from init()
        print("init() of %s failed:" % script.path, file=sys.stderr)
        traceback.print_exc()
        sys.stderr.flush()
        _send(out_fd, KIND_INIT_FAILED, 503, CT_TEXT, 0, b"", _last_line(error).encode("utf-8", "replace"))
        return 3
    plain = _is_plain(script)
    # A script that takes the whole request (@rawhttp, schema decorators) asks
    # the host for POST /score in an envelope too, so it sees the headers.
    _send(out_fd, KIND_READY, 200, CT_TEXT, 0, b"", b"" if plain else READY_WANTS_HTTP)
    read = reader.read
    unpack = REQUEST.unpack
    size = REQUEST.size
    while True:
        header = read(size)
        if len(header) < size:
            return 0  # the host closed the pipe: it is shutting down
        kind, id_len, body_len = unpack(header)
        request_id = read(id_len) if id_len else b""
        body = read(body_len) if body_len else b""
        if len(request_id) < id_len or len(body) < body_len:
            return 0
        if kind == KIND_SCORE and plain:
            status, content_type, out, exec_us = script.score(body)
            _send(out_fd, KIND_RESULT, status, content_type, exec_us, request_id, out)
            continue
        if kind == KIND_HTTP:
            try:
                meta, body = _open_envelope(body)
            except ValueError as error:
                _send(out_fd, KIND_RESULT, 400, CT_JSON, 0, request_id, _error_body("bad envelope: %s" % error))
                continue
        else:
            meta = {"method": "POST", "path": "/score", "query": "", "headers": {}}
        answer = inference.handle(script, meta.get("method", "GET"), meta.get("path", "/"), meta.get("query", ""),
                                  meta.get("headers") or {}, body, request_id.decode("utf-8", "replace"))
        _send_answer(out_fd, request_id, answer)


# ---------------------------------------------------------------------------
# Standalone server


def _read_keys(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return [k for k in (data.get("primary"), data.get("secondary")) if isinstance(k, str) and k]
    except (OSError, ValueError, AttributeError):
        return []


def make_server(script, host, port, max_body_bytes=10 << 20, keys_file=None):
    """A ThreadingHTTPServer serving `script` (already initialized, or with `init_error` set)."""
    import hmac
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    lock = threading.Lock()  # one run() at a time, as in a worker
    state = {"error": None, "keys_mtime": None, "keys": []}

    def valid_key(header):
        if not keys_file:
            return True
        try:
            mtime = os.stat(keys_file).st_mtime_ns
        except OSError:
            mtime = None
        if mtime != state["keys_mtime"]:
            state["keys"], state["keys_mtime"] = _read_keys(keys_file), mtime
        if not header or not header.startswith("Bearer "):
            return False
        given = header[len("Bearer "):].strip().encode("utf-8")
        return any(hmac.compare_digest(given, k.encode("utf-8")) for k in state["keys"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "amlc-scoring"

        def log_message(self, fmt, *args):  # noqa: D102 - quieter than the default
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def _answer(self, status, body, content_type="application/json", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", self._request_id)
            self.send_header("x-ms-request-id", self._request_id)
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _setup(self):
            self._request_id = self.headers.get("x-request-id") or str(uuid.uuid4())

        def do_GET(self):  # noqa: N802 - http.server's naming
            self._setup()
            path = self.path.split("?", 1)[0]
            if path in ("/", "/v2/health/live"):
                self._answer(200, b"Healthy", "text/plain; charset=utf-8")
            elif path in ("/health/ready", "/v2/health/ready"):
                if state["error"] is None and script.run_fn is not None:
                    self._answer(200, json.dumps({"status": "ready"}).encode())
                else:
                    reason = state["error"] or "init() has not finished"
                    self._answer(503, json.dumps({"status": "not ready", "reason": reason}).encode())
            else:
                self._handle("GET", b"")

        def _handle(self, method, body):
            """Every route inference.handle answers (GET /score, /swagger.json, KServe v2, ...)."""
            path, _, query = self.path.partition("?")
            if not valid_key(self.headers.get("Authorization")):
                return self._answer(401, _error_body("a valid key is required: Authorization: Bearer KEY"))
            if script.run_fn is None:
                return self._answer(503, _error_body("not ready: %s" % (state["error"] or "init() has not finished")))
            with lock:
                status, content_type, headers, out, exec_us = inference.handle(
                    script, method, path, query, dict(self.headers.items()), body, self._request_id)
            self._answer(status, out, content_type,
                         list(headers.items()) + [("x-ms-run-fn-exec-ms", "%.3f" % (exec_us / 1000.0))])

        def do_POST(self):  # noqa: N802
            self._setup()
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            if path != "/score" and not path.startswith("/v2/models/"):
                self.close_connection = True
                return self._answer(404, _error_body("no route POST %s" % path))
            if not valid_key(self.headers.get("Authorization")):
                self.close_connection = True
                return self._answer(401, _error_body("a valid key is required: Authorization: Bearer KEY"))
            if length > max_body_bytes:
                self.close_connection = True
                return self._answer(413, _error_body("the request body is larger than %d bytes" % max_body_bytes))
            body = self.rfile.read(length) if length else b""
            if path != "/score" or "?" in self.path or (script.run_fn is not None and not _is_plain(script)):
                return self._handle("POST", body)
            if script.run_fn is None:
                return self._answer(503, _error_body("not ready: %s" % (state["error"] or "init() has not finished")))
            with lock:
                status, content_type, out, exec_us = script.score(body)
            self._answer(status, out, CONTENT_TYPES[content_type],
                         [("x-ms-run-fn-exec-ms", "%.3f" % (exec_us / 1000.0))])

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.amlc_state = state
    return server


def standalone_main():
    path = _entry_script_path("AMLC_SCORING_SCRIPT", "AZUREML_ENTRY_SCRIPT")
    if not path:
        print("amlc.scoring: set AMLC_SCORING_SCRIPT or AZUREML_ENTRY_SCRIPT to the entry script", file=sys.stderr)
        return 2
    script = Script(path)
    sys.path.insert(0, os.path.dirname(script.path))
    inference.install_shims()
    port = int(os.environ.get("AMLC_PORT") or 5001)
    host = os.environ.get("AMLC_HOST") or "0.0.0.0"
    max_body = int(os.environ.get("AMLC_MAX_BODY_BYTES") or (10 << 20))
    server = make_server(script, host, port, max_body, os.environ.get("AMLC_KEYS_FILE") or None)
    try:
        script.load_and_init()
    except BaseException as error:  # noqa: BLE001 - keep serving liveness; readiness says why
        print("init() of %s failed:" % script.path, file=sys.stderr)
        traceback.print_exc()
        server.amlc_state["error"] = "init() failed: %s" % _last_line(error)
    print("listening on %s:%d" % (host, server.server_address[1]), flush=True)
    # `docker stop` sends SIGTERM: leave serve_forever (from another thread, as it requires) and exit 0.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker_main()
    return standalone_main()


if __name__ == "__main__":
    sys.exit(main())

"""The run context: formats records and appends them to the tracking file.

The protocol (record shapes, batching, what a reader must do) is described in
python/README.md; keep the two in step.

Hot path: ``Run.log`` with a float or int value formats the line by hand from
a per-name cached prefix (the escaped run id and metric name), keeps no
per-call dict, and appends the line to an in-memory batch under one lock. A
batch is written with a single ``os.write`` of whole lines on an ``O_APPEND``
descriptor when 1000 records are pending, when 0.5 s have passed since the
last write (checked on every call, and by a daemon thread so a burst followed
by silence is not held back), on ``flush()``, ``complete()``/``fail()`` and at
exit.
"""

import atexit
import os
import posixpath
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import weakref

try:  # the C accelerator; the pure-Python one gives the same output
    from json.encoder import c_encode_basestring as _escape_c
except ImportError:  # pragma: no cover
    _escape_c = None
from json.encoder import py_encode_basestring as _escape_py

_escape = _escape_c or _escape_py  # str -> '"..."' (", \ and controls escaped; non-ASCII kept)

BATCH_RECORDS = 1000      # write when this many records are pending
BATCH_SECONDS = 0.5       # ... or when this long has passed since the last write

_time_ns = time.time_ns
_monotonic = time.monotonic
_float_repr = float.__repr__
_int_repr = int.__repr__
# float.__repr__ of a non-finite value is 'nan', 'inf' or '-inf'; every finite
# repr ends in a digit, so the last character tells them apart cheaply.
_NONFINITE = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_VALUE = '"value":'
_TEXT = '"text":'
_CHILD_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_CHILDREN_DIR = "_children"


def _number(value):
    """JSON text of a number; non-finite values as the strings of the protocol."""
    if type(value) is float:
        text = _float_repr(value)
        return _NONFINITE[text] if text[-1] in "nf" else text
    if _INT64_MIN <= value <= _INT64_MAX:
        return _int_repr(value)
    try:  # beyond int64: the reader stores doubles anyway
        return _number(float(value))
    except OverflowError:
        return '"Infinity"' if value > 0 else '"-Infinity"'


def _convert(value):
    """(key, json text) of a value that is not a plain float or int.

    bool -> 1/0; str -> text; anything float() accepts (numpy and torch
    scalars, Decimal, Fraction, ...) -> value; anything else -> text of str().
    """
    if isinstance(value, str):
        return _TEXT, _escape(value)
    if isinstance(value, bool):
        return _VALUE, "1" if value else "0"
    if isinstance(value, int):
        return _VALUE, _number(int(value))
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return _TEXT, _escape(str(value))
    return _VALUE, _number(number)


def _as_step(step):
    if type(step) is not int:
        if isinstance(step, float) and step.is_integer():
            step = int(step)
        elif isinstance(step, float):
            raise ValueError("step must be an integer, got %r" % (step,))
        else:
            try:
                step = int(step.__index__())
            except AttributeError:
                raise TypeError("step must be an integer, got %r" % (step,)) from None
    if not _INT64_MIN <= step <= _INT64_MAX:
        raise ValueError("step %d does not fit in 64 bits" % (step,))
    return step


def _print(text):
    print("[amlc] " + text, flush=True)


class _Sink:
    """The batch of pending lines of one process and the file they go to.

    Shared by a run and all its child runs, so records keep one order. ``fd``
    is -1 offline (records are printed instead and nothing is buffered).
    """

    def __init__(self, tracking_file, outputs_dir):
        self.path = tracking_file
        self.outputs_dir = outputs_dir
        self.lock = threading.RLock()  # re-entrant: a signal handler may call flush()
        self.buf = []
        self.last = _monotonic()  # time of the last write (or of opening)
        self.fd = -1
        self.unterminated = False  # a failed partial write left half a line
        self.closed = False
        self._wake = None
        self._thread = None
        if tracking_file is not None:
            try:
                self.fd = os.open(tracking_file,
                                  os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as error:
                raise OSError(error.errno, "amlc: cannot open the tracking file "
                              "AMLC_TRACKING_FILE=%s: %s" % (tracking_file, error.strerror)) from None
            self._start_flusher()
        self.online = self.fd >= 0  # False: offline, records are printed
        _SINKS.add(self)

    # -- writing ------------------------------------------------------------

    def flush_locked(self):
        """Writes every pending line with one write(); the caller holds the lock."""
        self.last = _monotonic()
        buf = self.buf
        if not buf or self.fd < 0:
            return
        data = "".join(buf)
        del buf[:]
        if self.unterminated:  # end the half line a failed write left behind
            data = "\n" + data
        data = data.encode("utf-8", "replace")  # lone surrogates -> '?'
        written = 0
        try:
            written = os.write(self.fd, data)
            while written < len(data):  # a regular file takes it whole; be safe anyway
                written += os.write(self.fd, memoryview(data)[written:])
            self.unterminated = False
        except OSError as error:
            # Losing a batch is better than killing a training run over it; if
            # part of it went out, the next batch first ends that half line.
            if written:
                self.unterminated = data[written - 1] != 0x0A
            sys.stderr.write("amlc: could not write %d bytes of tracking records to %s: %s\n"
                             % (len(data) - written, self.path, error))

    def flush(self):
        with self.lock:
            self.flush_locked()

    def emit(self, line):
        """Queues a whole line (a record other than a metric point)."""
        with self.lock:
            buf = self.buf
            buf.append(line)
            if len(buf) >= BATCH_RECORDS or _monotonic() - self.last >= BATCH_SECONDS:
                self.flush_locked()

    def close(self):
        """Writes what is pending, stops the flusher thread and closes the file."""
        with self.lock:
            if self.closed:
                return
            self.flush_locked()
            self.closed = True
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
            if self._wake is not None:
                self._wake.set()
        _SINKS.discard(self)

    # -- the flusher thread ---------------------------------------------------

    def _start_flusher(self):
        self._wake = threading.Event()
        self._thread = threading.Thread(target=_flusher, args=(weakref.ref(self), self._wake),
                                        name="amlc-flush", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self):
        # The parent wrote what was pending before forking (and owns anything
        # another thread added since); the child starts empty, with a fresh
        # lock (another thread may have held it) and its own flusher thread.
        self.lock = threading.RLock()
        del self.buf[:]
        self.last = _monotonic()
        if self.online and not self.closed:
            try:
                self._start_flusher()
            except RuntimeError:  # pragma: no cover - interpreter shutting down
                pass


def _flusher(sink_ref, wake):
    """Writes records left pending for BATCH_SECONDS when no call came to do it."""
    while not wake.wait(BATCH_SECONDS / 2):
        sink = sink_ref()
        if sink is None:
            return
        if sink.buf and _monotonic() - sink.last >= BATCH_SECONDS:
            with sink.lock:
                if sink.buf and _monotonic() - sink.last >= BATCH_SECONDS:
                    sink.flush_locked()
        del sink


_SINKS = weakref.WeakSet()


def flush():
    """Writes every pending record of this process now."""
    for sink in list(_SINKS):
        sink.flush()


def _flush_at_exit():
    for sink in list(_SINKS):
        try:
            sink.flush()
        except Exception as error:  # pragma: no cover
            sys.stderr.write("amlc: flushing tracking records at exit failed: %s\n" % (error,))


atexit.register(_flush_at_exit)


def _before_fork():
    # Everything made before a fork reaches the file before anything the
    # forked child writes (e.g. a "child" record before the child run's points).
    try:
        flush()
    except Exception:  # pragma: no cover - never let a fork fail over this
        pass


def _after_fork_in_child():
    Run._context_lock = threading.Lock()
    for sink in list(_SINKS):
        sink._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


class _Experiment(str):
    """The experiment name; also has ``.name`` like the SDK's Experiment object."""

    @property
    def name(self):
        return str(self)


class Run:
    """A run context: the run amlc started this script for, or one of its child runs.

    Get the script's context with ``Run.get_context()`` (or ``from amlc import
    run``); make child runs with ``child_run()``.
    """

    _context = None
    _context_lock = threading.Lock()

    def __init__(self, run_id, experiment, sink, parent=None, name=None, _outputs_subdir=""):
        self.id = run_id
        self.experiment = _Experiment(experiment)
        self.parent = parent
        self.name = name
        self._sink = sink
        self._online = sink.online
        self._outputs_subdir = _outputs_subdir  # "" or "_children/<suffix>/"
        self._run_json = _escape(run_id)
        self._prefixes = {}   # metric name -> '{"t":"metric","run":...,"name":...,"step":'
        self._steps = {}      # metric name -> next auto step
        self._row_steps = {}  # table name -> next auto row step
        self._child_ids = set()
        self._child_count = 0
        root = self
        while root.parent is not None:
            root = root.parent
        # offline output names a child run by its id below the top-level run: "[trial-0] "
        self._label = "" if parent is None else "[%s] " % (run_id[len(root.id) + 1:],)

    # -- getting a context ----------------------------------------------------

    @classmethod
    def get_context(cls, allow_offline=True):
        """The run context of this process: one per process, created on first use.

        Reads AMLC_RUN_ID, AMLC_EXPERIMENT, AMLC_TRACKING_FILE and
        AMLC_OUTPUTS_DIR, or AMLC_SERVER and AMLC_RUN_TOKEN (records go to
        the workspace server over HTTP instead). Without AMLC_RUN_ID the
        context is offline: calls print to stdout (``allow_offline=False``
        raises instead).
        """
        context = cls._context
        if context is None:
            with cls._context_lock:
                context = cls._context
                if context is None:
                    context = cls._context = _context_from_environ(os.environ)
        if not allow_offline and not context._online:
            raise RuntimeError("amlc: not running under amlc (AMLC_RUN_ID is not set)")
        return context

    def __repr__(self):
        return "Run(id=%r, experiment=%r%s)" % (
            self.id, str(self.experiment), "" if self._online else ", offline")

    # -- metrics --------------------------------------------------------------

    def log(self, name, value, description="", step=None, timestamp=None):
        """Logs one point of metric ``name``: a number, or a string (kept as text).

        ``step`` defaults to the next step of ``name`` (0, 1, 2, ...); an
        explicit step moves that counter past it. ``timestamp`` (unix ms)
        defaults to now; MLflow's ``log_metric`` passes its own.
        ``description`` is accepted for SDK compatibility and not recorded.
        """
        t = type(value)
        if t is float:
            v = _float_repr(value)
            if v[-1] in "nf":
                v = _NONFINITE[v]
            key = _VALUE
        elif t is int and _INT64_MIN <= value <= _INT64_MAX:
            v = _int_repr(value)
            key = _VALUE
        else:
            key, v = _convert(value)
        sink = self._sink
        with sink.lock:
            steps = self._steps
            if step is None:
                step = steps.get(name, 0)
                steps[name] = step + 1
            else:
                step = _as_step(step)
                if step >= steps.get(name, 0):
                    steps[name] = step + 1
            if not self._online:
                _print("%s%s = %s (step %d)" % (self._label, name, value, step))
                return
            prefix = self._prefixes.get(name)
            if prefix is None:
                prefix = self._metric_prefix(name)
            buf = sink.buf
            ts = _time_ns() // 1000000 if timestamp is None else int(timestamp)
            buf.append(f'{prefix}{step},{key}{v},"ts":{ts}}}\n')
            if len(buf) >= BATCH_RECORDS or _monotonic() - sink.last >= BATCH_SECONDS:
                sink.flush_locked()

    def log_list(self, name, value, description=""):
        """Logs each value of ``value`` as one point of ``name``.

        Steps continue the name's counter, so the first call for a name gives
        steps 0..n-1 (a second call appends n..2n-1).
        """
        log = self.log
        for item in value:
            log(name, item)

    def log_row(self, name, description=None, **kwargs):
        """Logs one row: a point of ``NAME.col`` per column, all at the row's step.

        The row step is counted per ``name`` (0, 1, 2, ...).
        """
        sink = self._sink
        with sink.lock:
            row = self._row_steps.get(name, 0)
            self._row_steps[name] = row + 1
            for column, value in kwargs.items():
                self.log("%s.%s" % (name, column), value, step=row)

    def log_table(self, name, value, description=""):
        """Logs a table given as {column: [values]}: one ``log_row`` per row.

        Every column must have the same number of values.
        """
        columns = {column: list(values) for column, values in dict(value).items()}
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            raise ValueError("log_table(%r): columns have different lengths: %s" % (
                name, ", ".join("%s=%d" % (c, len(v)) for c, v in columns.items())))
        rows = lengths.pop() if lengths else 0
        with self._sink.lock:
            for i in range(rows):
                self.log_row(name, **{column: values[i] for column, values in columns.items()})

    def _metric_prefix(self, name):
        prefix = '{"t":"metric","run":%s,"name":%s,"step":' % (self._run_json, _escape(str(name)))
        self._prefixes[name] = prefix
        return prefix

    # -- tags -----------------------------------------------------------------

    def tag(self, key, value=None):
        """Sets tag ``key`` (to ``str(value)``, or "" when no value is given)."""
        key = str(key)
        value = "" if value is None else str(value)
        if not self._online:
            _print("%stag %s = %s" % (self._label, key, value))
            return
        self._sink.emit('{"t":"tag","run":%s,"key":%s,"value":%s,"ts":%d}\n' % (
            self._run_json, _escape(key), _escape(value), _time_ns() // 1000000))

    def set_tags(self, tags):
        """Sets several tags: a dict, or an iterable of keys (tagged with "")."""
        items = tags.items() if hasattr(tags, "items") else ((key, None) for key in tags)
        for key, value in items:
            self.tag(key, value)

    # -- params ---------------------------------------------------------------

    def log_param(self, key, value):
        """Records parameter ``key`` = ``str(value)`` (a later one for the key replaces it)."""
        key = str(key)
        value = str(value)
        if not self._online:
            _print("%sparam %s = %s" % (self._label, key, value))
            return
        self._sink.emit('{"t":"param","run":%s,"key":%s,"value":%s,"ts":%d}\n' % (
            self._run_json, _escape(key), _escape(value), _time_ns() // 1000000))

    def log_params(self, params):
        """Records every ``key: value`` of a dict as a parameter."""
        for key, value in dict(params).items():
            self.log_param(key, value)

    # -- files ----------------------------------------------------------------

    def upload_file(self, name, path_or_stream):
        """Copies a file (a path, a readable stream or bytes) into the run's outputs.

        ``name`` is its path inside the outputs folder; a leading "outputs/" is
        dropped, so "model.pkl" and "outputs/model.pkl" are the same file. Run
        by amlc the file goes to AMLC_OUTPUTS_DIR (offline: ./outputs); a child
        run's files go under its "_children/<child>/" subfolder. Returns the
        path written.
        """
        rel = _output_name(name)
        stored = self._outputs_subdir + rel
        outputs = self._sink.outputs_dir or os.path.abspath("outputs")
        dest = os.path.join(outputs, *stored.split("/"))
        _copy_into(path_or_stream, dest)
        if self._online:
            self._sink.emit('{"t":"file","run":%s,"name":%s,"path":%s,"ts":%d}\n' % (
                self._run_json, _escape("outputs/" + rel), _escape(stored),
                _time_ns() // 1000000))
        else:
            _print("%suploaded outputs/%s -> %s" % (self._label, rel, dest))
        return dest

    # -- child runs -----------------------------------------------------------

    def child_run(self, name=None):
        """Starts a child run and returns its context.

        Its id is "<this id>.<name>" (characters other than letters, digits,
        "_" and "-" in the name become "_"), or "<this id>.child-N" without a
        name (N = 0, 1, ... per parent). An id already used by a sibling gets
        "-2", "-3", ... appended.
        """
        sink = self._sink
        with sink.lock:
            if name is None or str(name) == "":
                base = "child-%d" % (self._child_count,)
            else:
                base = _CHILD_NAME_UNSAFE.sub("_", str(name))
            self._child_count += 1
            suffix, n = base, 1
            while suffix in self._child_ids:
                n += 1
                suffix = "%s-%d" % (base, n)
            self._child_ids.add(suffix)
            child_id = self.id + "." + suffix
            display = base if name is None or str(name) == "" else str(name)
            child = Run(child_id, str(self.experiment), sink, parent=self, name=display,
                        _outputs_subdir="%s%s/%s/" % (self._outputs_subdir, _CHILDREN_DIR, suffix))
            if self._online:
                sink.emit('{"t":"child","run":%s,"parent":%s,"name":%s,"ts":%d}\n' % (
                    _escape(child_id), self._run_json, _escape(display), _time_ns() // 1000000))
            else:
                _print("%schild run %s started" % (self._label, child._label.strip()))
        return child

    # -- status ---------------------------------------------------------------

    def complete(self):
        """Marks the run Completed and writes every pending record."""
        self._status("Completed", "")

    def fail(self, message="", error_details=None):
        """Marks the run Failed with ``message`` and writes every pending record."""
        if not message and error_details is not None:
            message = error_details
        self._status("Failed", "" if message is None else str(message))

    def _status(self, status, message):
        if not self._online:
            _print("%srun %s%s" % (self._label, status.lower(), ": " + message if message else ""))
            return
        sink = self._sink
        with sink.lock:
            sink.buf.append('{"t":"status","run":%s,"status":"%s","message":%s,"ts":%d}\n' % (
                self._run_json, status, _escape(message), _time_ns() // 1000000))
            sink.flush_locked()

    def flush(self):
        """Writes every pending record (of this run, its parent and children) now."""
        self._sink.flush()

    # A child run as a context manager: completed on leaving, failed on an exception.
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.complete()
        else:
            self.fail("%s: %s" % (exc_type.__name__, exc))
        return False


def _context_from_environ(environ):
    run_id = environ.get("AMLC_RUN_ID", "")
    experiment = environ.get("AMLC_EXPERIMENT", "")
    outputs_dir = environ.get("AMLC_OUTPUTS_DIR") or None
    tracking_file = environ.get("AMLC_TRACKING_FILE") or None
    server, token = environ.get("AMLC_SERVER"), environ.get("AMLC_RUN_TOKEN")
    if run_id and server and token:  # the engine gives these only when the file would not reach it
        from amlc import _http
        return _http.open_remote(run_id, experiment, server, token, outputs_dir)
    if run_id and tracking_file is None:
        sys.stderr.write("amlc: AMLC_RUN_ID is set but AMLC_TRACKING_FILE is not; "
                         "printing records instead\n")
    if not run_id or tracking_file is None:
        return open_offline(run_id or "OfflineRun_" + str(uuid.uuid4()), experiment or "offline",
                            outputs_dir)
    return open_run(run_id, experiment, tracking_file, outputs_dir)


def open_run(run_id, experiment, tracking_file, outputs_dir=None):
    """A run context writing to ``tracking_file`` (what get_context builds from the environment)."""
    return Run(run_id, experiment, _Sink(tracking_file, outputs_dir and os.path.abspath(outputs_dir)))


def open_offline(run_id, experiment, outputs_dir=None):
    """A run context that prints its records; files go to ``outputs_dir`` or ./outputs."""
    return Run(run_id, experiment, _Sink(None, outputs_dir and os.path.abspath(outputs_dir)))


def _output_name(name):
    """The '/'-separated path of an output inside the outputs folder, checked."""
    text = os.fspath(name)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    text = text.replace(os.sep, "/")
    while text.startswith("./"):
        text = text[2:]
    if text.startswith("outputs/"):
        text = text[len("outputs/"):]
    rel = posixpath.normpath(text) if text else ""
    if not rel or rel == "." or rel.startswith("/") or rel == ".." or rel.startswith("../"):
        raise ValueError("upload_file: %r is not a relative path inside the outputs folder" % (name,))
    return rel


def _copy_into(source, dest):
    """Copies a path, stream or bytes to ``dest`` atomically (temp file + rename)."""
    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise FileNotFoundError("upload_file: no such file: %r" % (os.fspath(source),))
        if os.path.exists(dest) and os.path.samefile(source, dest):
            return  # already in place (the script wrote into ./outputs itself)
    elif not isinstance(source, (bytes, bytearray, memoryview)) and not hasattr(source, "read"):
        raise TypeError("upload_file: expected a path, a readable stream or bytes, got %s"
                        % (type(source).__name__,))
    folder = os.path.dirname(dest)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".amlc-upload-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, (bytes, bytearray, memoryview)):
                out.write(source)
            elif isinstance(source, (str, os.PathLike)):
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
            else:
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

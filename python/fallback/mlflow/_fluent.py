"""MLflow's fluent tracking API on top of amlc's run context.

Run by amlc, the script's run *is* the MLflow run, as in an Azure ML job:
``start_run()`` (or the first ``log_*`` call) attaches to it, whatever run
name or experiment the script asks for, and ``start_run(nested=True)`` makes
a child run of the active one. Records go through ``amlc.Run`` into the
tracking file; outside amlc they are printed, so the script still runs.
"""

import json
import os
import threading
import time

from amlc._run import Run as _AmlcRun
from mlflow.entities import Experiment, Run, RunData, RunInfo, RunStatus
from mlflow.exceptions import MlflowException

_lock = threading.RLock()
_stack = []          # active runs, innermost last
_experiment_name = None
_MAX_PARAM_CHARS = 6000  # MLflow's limit for a param value


def _now_ms():
    return time.time_ns() // 1000000


def _root_context():
    return _AmlcRun.get_context()


class ActiveRun(Run):
    """A run started by ``start_run``; ends itself when used as a context manager."""

    def __init__(self, context, run_name, nested):
        info = RunInfo(context.id, _experiment_id(), run_name, _now_ms())
        super().__init__(info, RunData())
        self._context = context
        self._nested = nested

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        end_run(RunStatus.FINISHED if exc_type is None else RunStatus.FAILED)
        return False


def _experiment_id():
    return str(_root_context().experiment)


def start_run(run_id=None, experiment_id=None, run_name=None, nested=False, tags=None,
              description=None, log_system_metrics=None):
    """Starts (attaches to) a run and makes it the active one.

    Without an active run this is the run amlc started the script for;
    ``run_id`` naming that run (or None) is accepted, any other is refused.
    With an active run, ``nested=True`` starts a child run of it.
    """
    with _lock:
        if _stack and not nested:
            raise MlflowException(
                "Run with UUID %s is already active. To start a new run, first end the current "
                "run with mlflow.end_run(). To start a nested run, call start_run with "
                "nested=True" % (_stack[-1].info.run_id,), "INVALID_PARAMETER_VALUE")
        if _stack:
            context = _stack[-1]._context.child_run(run_name)
        else:
            context = _root_context()
            if run_id is not None and run_id != context.id:
                raise MlflowException(
                    "run %r cannot be resumed here: this script runs as amlc run %r"
                    % (run_id, context.id), "INVALID_PARAMETER_VALUE")
        run = ActiveRun(context, run_name or getattr(context, "name", None) or context.id, bool(_stack))
        _stack.append(run)
    if run_name:
        _set_tag(run, "mlflow.runName", run_name)
    if description:
        _set_tag(run, "mlflow.note.content", description)
    for key, value in (tags or {}).items():
        _set_tag(run, key, value)
    return run


def end_run(status=RunStatus.FINISHED):
    """Ends the active run: a child run gets ``status``; the script's own run is
    flushed (its status comes from the script's exit, unless ``status`` is FAILED)."""
    with _lock:
        if not _stack:
            return
        run = _stack.pop()
    run.info.status = status
    run.info.end_time = _now_ms()
    context = run._context
    if run._nested:
        if status == RunStatus.FINISHED:
            context.complete()
        else:
            context.fail("mlflow run ended %s" % (status,))
    elif status in (RunStatus.FAILED, RunStatus.KILLED):
        context.fail("mlflow run ended %s" % (status,))
    else:
        context.flush()


def active_run():
    """The active run, or None."""
    with _lock:
        return _stack[-1] if _stack else None


def last_active_run():
    return active_run()


def _current():
    """The active run, attaching to the script's run first when there is none."""
    with _lock:
        if _stack:
            return _stack[-1]
    return start_run()


def get_run(run_id):
    """What this process logged to one of its runs (active or not yet ended)."""
    with _lock:
        for run in _stack:
            if run.info.run_id == run_id:
                return run
    raise MlflowException("run %r is not a run of this process" % (run_id,), "RESOURCE_DOES_NOT_EXIST")


# -- experiments --------------------------------------------------------------

def set_experiment(experiment_name=None, experiment_id=None):
    """Accepted for compatibility: under amlc the job's experiment is used."""
    global _experiment_name
    _experiment_name = experiment_name or experiment_id
    return Experiment(_experiment_id(), _experiment_name or _experiment_id())


def get_experiment_by_name(name):
    return Experiment(_experiment_id(), name)


def create_experiment(name, artifact_location=None, tags=None):
    return _experiment_id()


def set_tracking_uri(uri):
    os.environ["MLFLOW_TRACKING_URI"] = str(uri)


def get_tracking_uri():
    return os.environ.get("MLFLOW_TRACKING_URI", "amlc:")


def get_artifact_uri(artifact_path=None):
    run = _current()
    outputs = run._context._sink.outputs_dir or os.path.abspath("outputs")
    root = os.path.join(outputs, *run._context._outputs_subdir.split("/"))
    return "file://" + (os.path.join(root, artifact_path) if artifact_path else root.rstrip("/"))


# -- metrics, params, tags -----------------------------------------------------

def log_metric(key, value, step=None, timestamp=None, synchronous=None, run_id=None):
    """Logs one point; ``step`` defaults to 0 and ``timestamp`` (unix ms) to now, as in MLflow."""
    run = _run_for(run_id)
    step = 0 if step is None else step
    run._context.log(key, value, step=step, timestamp=timestamp)
    try:
        run.data.metrics[key] = float(value)
    except (TypeError, ValueError):
        raise MlflowException("metric %r: value %r is not a number" % (key, value),
                              "INVALID_PARAMETER_VALUE") from None


def log_metrics(metrics, step=None, synchronous=None, run_id=None, timestamp=None):
    timestamp = _now_ms() if timestamp is None else timestamp
    for key, value in dict(metrics).items():
        log_metric(key, value, step=step, timestamp=timestamp, run_id=run_id)


def log_param(key, value, synchronous=None):
    run = _current()
    text = str(value)
    if len(text) > _MAX_PARAM_CHARS:
        raise MlflowException("param %r: value has %d characters; MLflow allows %d"
                              % (key, len(text), _MAX_PARAM_CHARS), "INVALID_PARAMETER_VALUE")
    run._context.log_param(key, text)
    run.data.params[str(key)] = text
    return value


def log_params(params, synchronous=None, run_id=None):
    for key, value in dict(params).items():
        log_param(key, value)


def _set_tag(run, key, value):
    run._context.tag(key, value)
    run.data.tags[str(key)] = str(value)


def set_tag(key, value, synchronous=None):
    _set_tag(_current(), key, value)


def set_tags(tags, synchronous=None):
    run = _current()
    for key, value in dict(tags).items():
        _set_tag(run, key, value)


def _run_for(run_id):
    if run_id is None:
        return _current()
    return get_run(run_id)


# -- artifacts ----------------------------------------------------------------

def _artifact_name(artifact_path, filename):
    parts = [p for p in (artifact_path or "").replace(os.sep, "/").split("/") if p]
    return "/".join(parts + [filename])


def log_artifact(local_path, artifact_path=None, run_id=None):
    """Copies a file into the run's outputs, under ``artifact_path`` when given."""
    run = _run_for(run_id)
    run._context.upload_file(_artifact_name(artifact_path, os.path.basename(local_path)), local_path)


def log_artifacts(local_dir, artifact_path=None, run_id=None):
    """Copies every file below ``local_dir`` into the run's outputs, keeping the tree."""
    run = _run_for(run_id)
    for folder, _, files in os.walk(local_dir):
        rel = os.path.relpath(folder, local_dir)
        for name in sorted(files):
            target = _artifact_name(artifact_path, name if rel == "." else os.path.join(rel, name))
            run._context.upload_file(target, os.path.join(folder, name))


def _log_bytes(data, artifact_file):
    run = _current()
    run._context.upload_file(artifact_file, data)


def log_text(text, artifact_file, run_id=None):
    _log_bytes(str(text).encode("utf-8"), artifact_file)


def log_dict(dictionary, artifact_file, run_id=None):
    """Writes a dict as YAML (``.yaml``/``.yml``) or JSON (anything else), as MLflow does."""
    if artifact_file.endswith((".yaml", ".yml")):
        import yaml
        text = yaml.safe_dump(dictionary, default_flow_style=False)
    else:
        text = json.dumps(dictionary, indent=2)
    _log_bytes(text.encode("utf-8"), artifact_file)


def log_figure(figure, artifact_file, *, save_kwargs=None):
    """A matplotlib figure (any format savefig knows) or a plotly one (``.html``, images)."""
    import io
    buffer = io.BytesIO()
    kind = type(figure).__module__
    if kind.startswith("matplotlib"):
        figure.savefig(buffer, format=os.path.splitext(artifact_file)[1][1:] or "png", **(save_kwargs or {}))
    elif kind.startswith("plotly"):
        if artifact_file.endswith(".html"):
            buffer.write(figure.to_html(**(save_kwargs or {})).encode("utf-8"))
        else:
            buffer.write(figure.to_image(format=os.path.splitext(artifact_file)[1][1:], **(save_kwargs or {})))
    else:
        raise TypeError("log_figure: expected a matplotlib or plotly figure, got %s" % (type(figure).__name__,))
    _log_bytes(buffer.getvalue(), artifact_file)


def log_image(image, artifact_file=None, key=None, step=None, timestamp=None):
    """A numpy array (HxW, HxWx1/3/4; uint8, or floats in [0, 1]) or a PIL image, as PNG."""
    from mlflow._png import encode_png
    if artifact_file is None:
        artifact_file = "images/%s_step_%d.png" % (key or "image", step or 0)
    if hasattr(image, "save") and hasattr(image, "mode"):  # PIL
        import io
        buffer = io.BytesIO()
        image.save(buffer, format=os.path.splitext(artifact_file)[1][1:].upper() or "PNG")
        _log_bytes(buffer.getvalue(), artifact_file)
        return
    _log_bytes(encode_png(image), artifact_file)


def _record_logged_model(run, model):
    """Appends the model to the run's ``mlflow.log-model.history`` tag, as MLflow does."""
    entry = {k: v for k, v in model.to_dict().items() if k in (
        "run_id", "artifact_path", "utc_time_created", "flavors", "model_uuid", "mlflow_version")}
    with _lock:
        history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
        history.append(entry)
    _set_tag(run, "mlflow.log-model.history", json.dumps(history))

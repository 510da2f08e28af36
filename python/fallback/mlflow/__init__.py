"""mlflow for scripts amlc runs: the tracking API and the model format of MLflow,
for interpreters that do not have the real package. amlc puts this folder on
every run's PYTHONPATH; when the real MLflow is installed further along the
path, importing ``mlflow`` loads that one instead, so an installed MLflow
always wins.

Logging goes to the amlc run the script runs as (see python/README.md,
"MLflow"): metrics with step and timestamp, params, tags, artifacts into the
run's outputs, nested runs as child runs. ``mlflow.sklearn`` and
``mlflow.pyfunc`` save and load models in MLflow's own folder format.
"""

import importlib.machinery as _machinery  # noqa: E402
import os as _os  # noqa: E402
import sys as _sys  # noqa: E402


def _real_mlflow_spec():
    """The real mlflow package's spec, looked for on sys.path without this folder."""
    here = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
    path = [p for p in _sys.path if _os.path.abspath(p or _os.curdir) != here]
    return _machinery.PathFinder.find_spec(__name__, path)


_REAL = _real_mlflow_spec()
if _REAL is not None:
    # Import hands back sys.modules["mlflow"] once this file has run: make
    # that the real package, executed in its own right.
    import importlib.util as _util
    _module = _util.module_from_spec(_REAL)
    _sys.modules[__name__] = _module
    _REAL.loader.exec_module(_module)
else:
    __version__ = "2.9.2"  # the MLflow release whose API and formats this follows

    from mlflow._fluent import (  # noqa: E402,F401
        ActiveRun, active_run, create_experiment, end_run, get_artifact_uri, get_experiment_by_name,
        get_run, get_tracking_uri, last_active_run, log_artifact, log_artifacts, log_dict, log_figure,
        log_image, log_metric, log_metrics, log_param, log_params, log_text, set_experiment, set_tag,
        set_tags, set_tracking_uri, start_run)
    from mlflow.exceptions import MlflowException  # noqa: E402,F401
    from mlflow.tracking.client import MlflowClient  # noqa: E402,F401

    def autolog(log_input_examples=False, log_model_signatures=True, log_models=True, log_datasets=True,
                disable=False, exclusive=False, disable_for_unsupported_versions=False, silent=False,
                extra_tags=None, **kwargs):
        """Turns on autologging for the frameworks amlc's module covers (scikit-learn) when installed."""
        try:
            import sklearn  # noqa: F401
        except ImportError:
            return
        from mlflow import sklearn as flavor
        flavor.autolog(log_input_examples=log_input_examples, log_model_signatures=log_model_signatures,
                       log_models=log_models, disable=disable, silent=silent, extra_tags=extra_tags)

    def __getattr__(name):
        # `import mlflow` then `mlflow.sklearn.x` / `mlflow.pyfunc.x` works as with MLflow.
        if name in ("sklearn", "pyfunc", "models", "tracking", "entities"):
            import importlib
            return importlib.import_module("mlflow." + name)
        raise AttributeError("module 'mlflow' has no attribute %r" % (name,))

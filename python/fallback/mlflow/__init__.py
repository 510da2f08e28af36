"""mlflow for scripts amlc runs: the tracking API and the model format of MLflow,
for interpreters that do not have the real package (amlc puts this folder on
the run's PYTHONPATH only then).

Logging goes to the amlc run the script runs as (see python/README.md,
"MLflow"): metrics with step and timestamp, params, tags, artifacts into the
run's outputs, nested runs as child runs. ``mlflow.sklearn`` and
``mlflow.pyfunc`` save and load models in MLflow's own folder format.
"""

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

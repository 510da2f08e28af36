"""``mlflow.tracking``: the client class scripts sometimes use for the current run."""

from mlflow.tracking.client import MlflowClient  # noqa: F401

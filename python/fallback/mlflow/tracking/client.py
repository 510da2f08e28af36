"""A small ``MlflowClient``: logs to runs of this process through the fluent API."""

from mlflow import _fluent


class MlflowClient:
    def __init__(self, tracking_uri=None, registry_uri=None):
        self.tracking_uri = tracking_uri or _fluent.get_tracking_uri()

    def get_run(self, run_id):
        return _fluent.get_run(run_id)

    def log_metric(self, run_id, key, value, timestamp=None, step=None, synchronous=None):
        _fluent.log_metric(key, value, step=step, timestamp=timestamp, run_id=run_id)

    def log_param(self, run_id, key, value, synchronous=None):
        run = _fluent.get_run(run_id)
        run._context.log_param(key, value)
        run.data.params[str(key)] = str(value)

    def set_tag(self, run_id, key, value, synchronous=None):
        _fluent._set_tag(_fluent.get_run(run_id), key, value)

    def log_artifact(self, run_id, local_path, artifact_path=None):
        _fluent.log_artifact(local_path, artifact_path, run_id=run_id)

"""The MLflow model format: a folder with an ``MLmodel`` YAML file naming its flavors.

``Model`` reads and writes ``MLmodel`` with the keys MLflow writes
(``artifact_path``, ``flavors``, ``mlflow_version``, ``model_uuid``,
``run_id``, ``signature``, ``utc_time_created``, ...), sorted as PyYAML's
``safe_dump`` sorts them, so a folder saved here is what MLflow itself
would save and MLflow's own ``load_model`` reads it.
"""

import datetime
import os
import uuid

from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature, infer_signature  # noqa: F401 (public API)

MLMODEL_FILE_NAME = "MLmodel"


class Model:
    """The contents of an ``MLmodel`` file."""

    def __init__(self, artifact_path=None, run_id=None, utc_time_created=None, flavors=None,
                 signature=None, saved_input_example_info=None, model_uuid=None,
                 mlflow_version=None, metadata=None, **kwargs):
        from mlflow import __version__
        self.artifact_path = artifact_path
        self.run_id = run_id
        self.utc_time_created = str(utc_time_created or datetime.datetime.utcnow())
        self.flavors = flavors if flavors is not None else {}
        self.signature = signature
        self.saved_input_example_info = saved_input_example_info
        self.model_uuid = model_uuid or uuid.uuid4().hex
        self.mlflow_version = mlflow_version or __version__
        self.metadata = metadata
        self.__dict__.update(kwargs)  # keys a newer MLflow wrote are kept as they are

    def add_flavor(self, name, **params):
        self.flavors[name] = params
        return self

    def get_input_schema(self):
        return self.signature.inputs if self.signature is not None else None

    def get_output_schema(self):
        return self.signature.outputs if self.signature is not None else None

    def to_dict(self):
        result = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.signature is not None:
            result["signature"] = self.signature.to_dict()
        return result

    def to_yaml(self, stream=None):
        import yaml
        return yaml.safe_dump(self.to_dict(), stream=stream, default_flow_style=False)

    def save(self, path):
        with open(path, "w") as out:
            self.to_yaml(out)

    @classmethod
    def from_dict(cls, model_dict):
        values = dict(model_dict)
        signature = values.pop("signature", None)
        if isinstance(signature, dict):
            signature = ModelSignature.from_dict(signature)
        return cls(signature=signature, **values)

    @classmethod
    def load(cls, path):
        """Reads ``path``/MLmodel (``path`` a model folder or the MLmodel file itself)."""
        import yaml
        path = local_model_path(path)
        if os.path.isdir(path):
            path = os.path.join(path, MLMODEL_FILE_NAME)
        try:
            with open(path) as f:
                return cls.from_dict(yaml.safe_load(f) or {})
        except FileNotFoundError:
            raise MlflowException("no MLmodel file at %s: not an MLflow model folder" % (path,),
                                  "RESOURCE_DOES_NOT_EXIST") from None


def load_flavor(model_uri, flavor_name):
    """(local folder, Model, the flavor's settings) of a model URI; an
    MlflowException naming the flavors it has when it lacks ``flavor_name``."""
    path = local_model_path(model_uri)
    model = Model.load(path)
    flavor = model.flavors.get(flavor_name)
    if flavor is None:
        raise MlflowException("the model at %s has no %s flavor (it has: %s)"
                              % (path, flavor_name, ", ".join(sorted(model.flavors)) or "none"),
                              "RESOURCE_DOES_NOT_EXIST")
    return path, model, flavor


class ModelInfo:
    """What ``log_model`` returns."""

    def __init__(self, artifact_path, flavors, model_uri, model_uuid, run_id, utc_time_created,
                 mlflow_version, signature=None):
        self.artifact_path = artifact_path
        self.flavors = flavors
        self.model_uri = model_uri
        self.model_uuid = model_uuid
        self.run_id = run_id
        self.utc_time_created = utc_time_created
        self.mlflow_version = mlflow_version
        self.signature = signature


def get_model_info(model_uri):
    model = Model.load(model_uri)
    return ModelInfo(model.artifact_path, model.flavors, model_uri, model.model_uuid, model.run_id,
                     model.utc_time_created, model.mlflow_version, model.signature)


def local_model_path(model_uri):
    """The local folder a model URI names: a path, ``file://``, or ``runs:/RUN/PATH``
    of a run of this process (its outputs folder)."""
    uri = os.fspath(model_uri)
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if uri.startswith("runs:/"):
        from mlflow import _fluent
        run_id, _, rel = uri[len("runs:/"):].partition("/")
        run = _fluent.get_run(run_id)
        outputs = run._context._sink.outputs_dir or os.path.abspath("outputs")
        return os.path.join(outputs, *(run._context._outputs_subdir + rel).split("/"))
    if "://" in uri or uri.startswith("models:/"):
        raise MlflowException(
            "model URI %r: amlc's mlflow module reads local folders, file:// and runs:/ URIs of "
            "this run; give the model as a job input (type: mlflow_model) instead" % (uri,),
            "INVALID_PARAMETER_VALUE")
    return uri

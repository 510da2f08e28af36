"""scikit-learn models in the MLflow format: save_model, log_model, load_model, autolog.

A saved folder holds ``MLmodel`` (flavors ``sklearn`` and ``python_function``),
``model.pkl``, ``conda.yaml``, ``python_env.yaml`` and ``requirements.txt``,
as MLflow writes them. ``serialization_format`` is recorded truthfully:
"cloudpickle" when cloudpickle is installed (MLflow's default), else
"pickle" (both are formats MLflow loads).
"""

import os
import pickle
import platform
import shutil

from mlflow.exceptions import MlflowException
from mlflow.models import MLMODEL_FILE_NAME, Model, ModelInfo, load_flavor, local_model_path
from mlflow.models.environment import default_requirements, write_environment
from mlflow.models.input_example import save_example
from mlflow.models.signature import ModelSignature, infer_signature

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SUPPORTED_SERIALIZATION_FORMATS = [SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_CLOUDPICKLE]
_MODEL_FILE = "model.pkl"


def _pickler(serialization_format):
    if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
        try:
            import cloudpickle
            return cloudpickle, SERIALIZATION_FORMAT_CLOUDPICKLE
        except ImportError:
            return pickle, SERIALIZATION_FORMAT_PICKLE
    if serialization_format == SERIALIZATION_FORMAT_PICKLE:
        return pickle, SERIALIZATION_FORMAT_PICKLE
    raise MlflowException("unknown serialization_format %r; use one of %s"
                          % (serialization_format, SUPPORTED_SERIALIZATION_FORMATS),
                          "INVALID_PARAMETER_VALUE")


def save_model(sk_model, path, conda_env=None, code_paths=None, mlflow_model=None,
               serialization_format=SERIALIZATION_FORMAT_CLOUDPICKLE, signature=None,
               input_example=None, pip_requirements=None, extra_pip_requirements=None,
               pyfunc_predict_fn="predict", metadata=None):
    """Saves ``sk_model`` as an MLflow model folder at ``path`` (which must not exist yet)."""
    import sklearn
    path = os.path.abspath(local_model_path(path))
    if os.path.exists(path) and os.listdir(path):
        raise MlflowException("Path '%s' already exists and is not empty" % (path,),
                              "RESOURCE_ALREADY_EXISTS")
    os.makedirs(path, exist_ok=True)
    pickler, serialization_format = _pickler(serialization_format)
    with open(os.path.join(path, _MODEL_FILE), "wb") as out:
        pickler.dump(sk_model, out)
    model = mlflow_model or Model()
    if input_example is not None:
        save_example(model, input_example, path)
    if signature is None and input_example is not None:
        signature = infer_signature(input_example, sk_model.predict(input_example))
    if signature is not None:
        model.signature = signature if isinstance(signature, ModelSignature) else ModelSignature.from_dict(signature)
    if metadata is not None:
        model.metadata = metadata
    if pip_requirements:
        requirements = list(pip_requirements)
    else:
        flavor_packages = ["scikit-learn"]
        if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
            flavor_packages.append("cloudpickle")
        requirements = default_requirements(*flavor_packages)
    if extra_pip_requirements:
        requirements += list(extra_pip_requirements)
    env = write_environment(path, requirements)
    if conda_env is not None:
        _write_conda_env(path, conda_env)
    if hasattr(sk_model, pyfunc_predict_fn):
        model.add_flavor("python_function", loader_module="mlflow.sklearn", model_path=_MODEL_FILE,
                         predict_fn=pyfunc_predict_fn, env=env, python_version=platform.python_version())
    model.add_flavor(FLAVOR_NAME, pickled_model=_MODEL_FILE, sklearn_version=sklearn.__version__,
                     serialization_format=serialization_format, code=None)
    model.save(os.path.join(path, MLMODEL_FILE_NAME))
    return model


def _write_conda_env(path, conda_env):
    if isinstance(conda_env, dict):
        import yaml
        with open(os.path.join(path, "conda.yaml"), "w") as out:
            yaml.safe_dump(conda_env, out, default_flow_style=False)
    else:
        shutil.copyfile(conda_env, os.path.join(path, "conda.yaml"))


def log_model(sk_model, artifact_path, conda_env=None, code_paths=None,
              serialization_format=SERIALIZATION_FORMAT_CLOUDPICKLE, registered_model_name=None,
              signature=None, input_example=None, await_registration_for=None,
              pip_requirements=None, extra_pip_requirements=None, pyfunc_predict_fn="predict",
              metadata=None, **kwargs):
    """Saves the model into the active run's outputs under ``artifact_path``."""
    from mlflow import _fluent
    run = _fluent._current()
    target = _fluent.get_artifact_uri(artifact_path)[len("file://"):]
    if os.path.exists(target):
        shutil.rmtree(target)
    model = Model(artifact_path=artifact_path, run_id=run.info.run_id)
    save_model(sk_model, target, conda_env=conda_env, mlflow_model=model,
               serialization_format=serialization_format, signature=signature,
               input_example=input_example, pip_requirements=pip_requirements,
               extra_pip_requirements=extra_pip_requirements, pyfunc_predict_fn=pyfunc_predict_fn,
               metadata=metadata)
    _fluent._record_logged_model(run, model)
    if registered_model_name:
        _fluent._set_tag(run, "amlc.register_model_name", registered_model_name)
    return ModelInfo(artifact_path, model.flavors, "runs:/%s/%s" % (run.info.run_id, artifact_path),
                     model.model_uuid, run.info.run_id, model.utc_time_created, model.mlflow_version,
                     model.signature)


def _load_pickled(path, serialization_format):
    # cloudpickle writes ordinary pickle streams; pickle reads them when the
    # model's classes are importable, so cloudpickle is only needed if present.
    module = pickle
    if serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE:
        try:
            import cloudpickle as module
        except ImportError:
            module = pickle
    with open(path, "rb") as f:
        return module.load(f)


def load_model(model_uri, dst_path=None):
    """The scikit-learn object of an MLflow model folder (or ``runs:/``/``file://`` URI)."""
    path, _, flavor = load_flavor(model_uri, FLAVOR_NAME)
    return _load_pickled(os.path.join(path, flavor.get("pickled_model", _MODEL_FILE)),
                         flavor.get("serialization_format", SERIALIZATION_FORMAT_CLOUDPICKLE))


class _SklearnModelWrapper:
    def __init__(self, sk_model, predict_fn="predict"):
        self.sklearn_model = sk_model
        self._predict = getattr(sk_model, predict_fn)

    def predict(self, data, params=None):
        return self._predict(data)


def _load_pyfunc(path, predict_fn="predict"):
    """The python_function loader: ``path`` is the flavor's model_path (model.pkl)."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    try:
        model = Model.load(folder)
        flavor = model.flavors.get(FLAVOR_NAME, {})
        serialization_format = flavor.get("serialization_format", SERIALIZATION_FORMAT_CLOUDPICKLE)
        predict_fn = model.flavors.get("python_function", {}).get("predict_fn", predict_fn)
    except MlflowException:
        serialization_format = SERIALIZATION_FORMAT_CLOUDPICKLE
    pkl = path if os.path.isfile(path) else os.path.join(path, _MODEL_FILE)
    return _SklearnModelWrapper(_load_pickled(pkl, serialization_format), predict_fn)


def autolog(log_input_examples=False, log_model_signatures=True, log_models=True, log_datasets=True,
            disable=False, exclusive=False, disable_for_unsupported_versions=False, silent=False,
            max_tuning_runs=5, log_post_training_metrics=True, serialization_format=None,
            registered_model_name=None, pos_label=None, extra_tags=None):
    """Logs every top-level ``fit`` of a scikit-learn estimator: its params,
    training metrics, and the fitted model under ``model``."""
    from mlflow.sklearn import _autolog
    _autolog.configure(disable=disable, log_models=log_models, log_model_signatures=log_model_signatures,
                       log_input_examples=log_input_examples, silent=silent,
                       serialization_format=serialization_format or SERIALIZATION_FORMAT_CLOUDPICKLE,
                       registered_model_name=registered_model_name, extra_tags=extra_tags)

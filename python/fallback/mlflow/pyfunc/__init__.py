"""The python_function flavor: load any MLflow model folder and call ``predict``.

``load_model`` reads ``MLmodel``, imports the flavor's ``loader_module`` and
calls its ``_load_pyfunc(data path)``, as MLflow does; ``mlflow.sklearn`` is
this package's own loader.
"""

import importlib
import os

from mlflow.exceptions import MlflowException
from mlflow.models import load_flavor, local_model_path

FLAVOR_NAME = "python_function"


class PyFuncModel:
    def __init__(self, model_meta, model_impl, loader_module):
        self.metadata = model_meta
        self._model_impl = model_impl
        self.loader_module = loader_module

    def predict(self, data, params=None):
        """Predictions for ``data``: a DataFrame, an array, or a dict/list a DataFrame is made of.
        Columns are put in the order of the model's input signature when it has one."""
        data = _as_input(data, self.metadata)
        return self._model_impl.predict(data, params=params) if params is not None else \
            self._model_impl.predict(data)

    def unwrap_python_model(self):
        return getattr(self._model_impl, "sklearn_model", self._model_impl)

    def __repr__(self):
        return "mlflow.pyfunc.loaded_model:\n  flavor: %s" % (self.loader_module,)


def _as_input(data, meta):
    names = meta.signature.input_names() if meta.signature is not None else []
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        return data
    if isinstance(data, (dict, list)) and names:
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame) and names and set(names) <= set(map(str, data.columns)):
        data = data[names]
    return data


def load_model(model_uri, suppress_warnings=False, dst_path=None, model_config=None):
    path, meta, flavor = load_flavor(model_uri, FLAVOR_NAME)
    loader = flavor.get("loader_module")
    data = os.path.join(path, flavor.get("model_path") or flavor.get("data") or "")
    try:
        module = importlib.import_module(loader)
    except ImportError as error:
        raise MlflowException("cannot load the model at %s: its loader module %r is not "
                              "available here (%s)" % (path, loader, error)) from None
    return PyFuncModel(meta, module._load_pyfunc(data), loader)


def get_model_dependencies(model_uri, format="pip"):
    path = local_model_path(model_uri)
    return os.path.join(path, "requirements.txt" if format == "pip" else "conda.yaml")

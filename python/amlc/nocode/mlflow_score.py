"""Scoring script for a no-code deployment of a model of type ``mlflow_model``.

Azure ML serves an MLflow model without a scoring script; amlc does the same
with this script, which reads the model in MLflow's documented format
(https://mlflow.org/docs/latest/models.html#storage-format) without needing
MLflow itself:

* the ``MLmodel`` file (YAML) at the model folder's root, or one folder
  below it (the registered folder's own name);
* the ``sklearn`` flavor: ``pickled_model`` (``model.pkl``) written with
  ``serialization_format`` ``pickle`` or ``cloudpickle`` (cloudpickle is used
  when installed; a cloudpickle file of plain classes also loads with pickle);
* the ``python_function`` flavor: ``loader_module`` ``mlflow.sklearn`` (the
  same pickle, at ``model_path``), or ``mlflow.pyfunc.model`` with a
  ``python_model.pkl`` whose object has ``predict(context, model_input)``.

Request bodies, as Azure ML's MLflow deployments and MLflow's scoring
server take them:

* ``{"input_data": {"columns": [...], "index": [...], "data": [[...]]}}``
  or ``{"input_data": [[...]]}`` (Azure ML);
* ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``,
  ``{"dataframe_records": [{...}]}``, ``{"instances": [...]}``,
  ``{"inputs": [...]}`` (MLflow).

The answer is the list of predictions (what Azure ML returns). Columns are
given to the model as a pandas DataFrame when pandas is installed and the
request names them; else as a list of rows.
"""

import json
import os
import pickle

MODEL = None
FLAVOR = None


def _find_mlmodel(root):
    if os.path.isfile(os.path.join(root, "MLmodel")):
        return root
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if os.path.isfile(os.path.join(folder, "MLmodel")):
            return folder
    raise FileNotFoundError("no MLmodel file in %s or a folder below it: is this an MLflow model?" % root)


def read_mlmodel(path):
    """The MLmodel file as a dict (PyYAML when installed; else its simple subset)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml  # python3-yaml
        return yaml.safe_load(text) or {}
    except ImportError:
        return _parse_simple_yaml(text)


def _parse_simple_yaml(text):
    # MLmodel files are block mappings of scalars: enough for the fields read here.
    root, stack = {}, [(-1, None)]
    stack[0] = (-1, root)
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or ":" not in line:
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = value.strip()
        if value:
            parent[key] = value.strip("'\"")
        else:
            parent[key] = {}
            stack.append((indent, parent[key]))
    return root


def _load_pickle(path, serialization=None):
    if serialization == "cloudpickle" or serialization is None:
        try:
            import cloudpickle
            with open(path, "rb") as f:
                return cloudpickle.load(f)
        except ImportError:
            pass
    with open(path, "rb") as f:
        return pickle.load(f)


def load_model(folder):
    """(model, flavor name) of the MLflow model in `folder`."""
    meta = read_mlmodel(os.path.join(folder, "MLmodel"))
    flavors = meta.get("flavors") or {}
    if "sklearn" in flavors:
        sk = flavors["sklearn"] or {}
        path = os.path.join(folder, sk.get("pickled_model", "model.pkl"))
        return _load_pickle(path, sk.get("serialization_format")), "sklearn"
    pyfunc = flavors.get("python_function") or {}
    loader = pyfunc.get("loader_module", "")
    if loader == "mlflow.sklearn":
        path = os.path.join(folder, pyfunc.get("model_path", "model.pkl"))
        return _load_pickle(path), "sklearn"
    if loader == "mlflow.pyfunc.model":
        path = os.path.join(folder, pyfunc.get("python_model", "python_model.pkl"))
        return _load_pickle(path, "cloudpickle"), "python_model"
    raise ValueError("the MLflow model in %s has flavors %s; amlc serves sklearn and python_function "
                     "(mlflow.sklearn, mlflow.pyfunc.model) models" % (folder, sorted(flavors)))


def parse_input(body):
    """(rows, columns or None) from a request body in one of the accepted shapes."""
    request = json.loads(body)
    if not isinstance(request, dict):
        return request, None
    for key in ("input_data", "dataframe_split"):
        if key in request:
            data = request[key]
            if isinstance(data, dict):
                return data.get("data", []), data.get("columns")
            return data, None
    if "dataframe_records" in request:
        records = request["dataframe_records"]
        columns = list(records[0].keys()) if records else []
        return [[record.get(c) for c in columns] for record in records], columns
    for key in ("instances", "inputs"):
        if key in request:
            return request[key], None
    raise ValueError("send {\"input_data\": {\"columns\": [...], \"data\": [[...]]}} (or dataframe_split, "
                     "dataframe_records, instances, inputs)")


def _as_model_input(rows, columns):
    if columns:
        try:
            import pandas
            return pandas.DataFrame(rows, columns=columns)
        except ImportError:
            pass
    return rows


def init():
    global MODEL, FLAVOR
    folder = _find_mlmodel(os.environ.get("AZUREML_MODEL_DIR", "."))
    MODEL, FLAVOR = load_model(folder)


def run(raw_data):
    rows, columns = parse_input(raw_data)
    data = _as_model_input(rows, columns)
    if FLAVOR == "python_model":
        predictions = MODEL.predict(None, data)
    else:
        predictions = MODEL.predict(data)
    tolist = getattr(predictions, "tolist", None)
    return tolist() if callable(tolist) else list(predictions)

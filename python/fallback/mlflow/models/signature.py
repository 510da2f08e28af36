"""Model signatures as MLflow writes them into ``MLmodel``.

``inputs`` and ``outputs`` are JSON strings: a column schema
``[{"type": "double", "name": "age", "required": true}, ...]`` for a
DataFrame, or a tensor schema ``[{"type": "tensor", "tensor-spec":
{"dtype": "float64", "shape": [-1, 10]}}]`` for an array.
"""

import json

# pandas/numpy dtype kind -> MLflow column type
_COLUMN_TYPES = {"b": "boolean", "i": "long", "u": "long", "f": "double", "O": "string",
                 "U": "string", "S": "binary", "M": "datetime"}


class ModelSignature:
    def __init__(self, inputs=None, outputs=None, params=None):
        self.inputs = inputs    # JSON text (as in MLmodel) or None
        self.outputs = outputs
        self.params = params

    def to_dict(self):
        return {"inputs": self.inputs, "outputs": self.outputs, "params": self.params}

    @classmethod
    def from_dict(cls, values):
        return cls(values.get("inputs"), values.get("outputs"), values.get("params"))

    def input_names(self):
        """Column names of a column schema, in order ([] for a tensor schema)."""
        try:
            return [c["name"] for c in json.loads(self.inputs or "[]") if "name" in c]
        except (ValueError, TypeError):
            return []


def _schema_of(data):
    import numpy as np
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is optional
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        columns = []
        for name, dtype in data.dtypes.items():
            kind = "double" if dtype.kind == "f" and dtype.itemsize == 8 else (
                "float" if dtype.kind == "f" else _COLUMN_TYPES.get(dtype.kind, "string"))
            if dtype.kind == "i" and dtype.itemsize <= 4:
                kind = "integer"
            columns.append({"type": kind, "name": str(name), "required": True})
        return json.dumps(columns)
    if pd is not None and isinstance(data, pd.Series):
        return _schema_of(data.to_frame() if data.name is not None else np.asarray(data))
    array = np.asarray(data)
    shape = [-1] + list(array.shape[1:])
    return json.dumps([{"type": "tensor", "tensor-spec": {"dtype": str(array.dtype), "shape": shape}}])


def infer_signature(model_input=None, model_output=None, params=None):
    """The signature of example input (and output) data: a DataFrame, Series or array."""
    return ModelSignature(_schema_of(model_input) if model_input is not None else None,
                          _schema_of(model_output) if model_output is not None else None,
                          params)

"""``input_example.json`` beside a model, as MLflow 2.9 saves it, and the
``saved_input_example_info`` entry of ``MLmodel`` that names it.

A numpy array is saved as ``{"inputs": [...]}`` (``type: ndarray``, ``format:
tf-serving``); anything else becomes a DataFrame saved in pandas' ``split``
orientation without its index (and without ``columns`` when they are the
default 0..n-1), with ``type: dataframe`` and ``pandas_orient: split``.
"""

import json
import os

EXAMPLE_FILE = "input_example.json"


def _dataframe_example(example):
    import pandas as pd
    frame = example if isinstance(example, pd.DataFrame) else pd.DataFrame(example)
    result = frame.astype(object).where(frame.notna(), None).to_dict(orient="split")
    del result["index"]
    if list(frame.columns) == list(range(len(frame.columns))):
        del result["columns"]
    return result


def save_example(model, input_example, path):
    """Writes ``input_example`` into the model folder ``path`` and records it on ``model``."""
    import numpy as np
    if isinstance(input_example, np.ndarray):
        data = {"inputs": input_example.tolist()}
        info = {"artifact_path": EXAMPLE_FILE, "type": "ndarray", "format": "tf-serving"}
    else:
        data = _dataframe_example(input_example)
        info = {"artifact_path": EXAMPLE_FILE, "type": "dataframe", "pandas_orient": "split"}
    with open(os.path.join(path, EXAMPLE_FILE), "w") as out:
        json.dump(data, out)
    model.saved_input_example_info = info

"""Scoring script in Azure ML's shape: init() once per worker, run() per request."""
import json
import os
import pickle

model = None


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl")
    with open(path, "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    data = json.loads(raw_data)["data"]
    return {"predictions": list(model.predict(data))}

"""The baseline of the scoring benchmark: the same scoring script behind Flask.

Run with gunicorn sync workers (each imports this module, so init() runs once
per worker, as in amlc serve):

    AMLC_SCORING_SCRIPT=score.py AZUREML_MODEL_DIR=model \
        PYTHONPATH=python:bench/scoring gunicorn -w 2 -b 127.0.0.1:8090 flask_app:app

The request goes through amlc.scoring.Script.score, the very code an amlc
worker runs per request, so the two sides do the same Python work and the
benchmark compares the HTTP fronts.
"""
import os
import sys

from flask import Flask, Response, request

from amlc.scoring import CONTENT_TYPES, Script

_path = os.environ["AMLC_SCORING_SCRIPT"]
sys.path.insert(0, os.path.dirname(os.path.abspath(_path)))
_script = Script(_path)
_script.load_and_init()

app = Flask(__name__)


@app.route("/score", methods=["POST"])
def score():
    status, content_type, body, exec_us = _script.score(request.get_data())
    response = Response(body, status=status, mimetype=CONTENT_TYPES[content_type])
    response.headers["x-ms-run-fn-exec-ms"] = "%.3f" % (exec_us / 1000.0)
    return response


@app.route("/health/ready")
def ready():
    return "ready"

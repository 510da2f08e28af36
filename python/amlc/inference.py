"""The routes of Azure ML's inference server and KServe's v2 protocol, over an entry script.

``amlc serve`` (its workers) and the standalone ``python3 -m amlc.scoring``
answer these the same way:

* ``POST /score``: ``run(raw_data)``; a ``@rawhttp`` run gets an ``AMLRequest``
  (method, path, ``args``, ``headers``, ``get_data()``, ``get_json()``) and may
  return an ``AMLResponse``; a run decorated with inference_schema's
  ``@input_schema`` is called with the JSON body's fields as keyword
  arguments, each converted by its parameter type.
* ``GET /score?a=1&b=2``: the same, with the query parameters as the input
  (``{"a": "1", "b": "2"}`` as JSON, or keyword arguments).
* ``GET /swagger.json``: an OpenAPI 2.0 description built from the
  ``@input_schema``/``@output_schema`` samples; 404 for a script without them.
* KServe v2: ``GET /v2`` (server metadata), ``GET /v2/models/M[/versions/V]``
  (model metadata), ``.../ready``, and ``POST /v2/models/M[/versions/V]/infer``
  with ``{"inputs": [{"name", "shape", "datatype", "data"}]}``: the first
  input's data, shaped, goes to run() as ``{"input_data": [...]}`` and the
  result comes back as one output tensor. The model is the one in
  ``AZUREML_MODEL_DIR`` (``.../NAME/VERSION``).

When ``azureml.contrib.services`` or ``inference_schema`` are not installed,
the stand-ins in ``amlc/shims`` are importable in their place.
"""

import json
import os
import sys
import time
import traceback

SHIMS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "shims")
JSON = "application/json"
V2_TYPES = ((bool, "BOOL"), (int, "INT64"), (float, "FP64"), (str, "BYTES"))


def install_shims():
    """Makes the stand-ins importable after anything installed (they never shadow the real packages)."""
    if SHIMS_DIR not in sys.path:
        sys.path.append(SHIMS_DIR)


def _message(status, text, started=None):
    return status, JSON, {}, json.dumps({"message": text[:2000]}).encode("utf-8"), 0


def _is_rawhttp(run):
    return bool(getattr(run, "__amlc_rawhttp__", False) or getattr(run, "_rawhttp", False))


def _schema_functions():
    try:
        from inference_schema.schema_util import get_input_schema, get_output_schema
    except ImportError:
        from inference_schema.schema_decorators import get_input_schema, get_output_schema
    return get_input_schema, get_output_schema


def _schema(run):
    try:
        get_input, get_output = _schema_functions()
        return get_input(run) or None, get_output(run) or None
    except Exception:  # noqa: BLE001 - no schema is a fine answer
        return None, None


def _encode(result):
    """(status, content type, headers, body) of what run() returned."""
    if hasattr(result, "status_code") and hasattr(result, "get_data"):  # AMLResponse
        headers = dict(getattr(result, "headers", {}) or {})
        content_type = getattr(result, "content_type", None) or headers.pop("Content-Type", "text/plain")
        return int(result.status_code), content_type, headers, result.get_data()
    from amlc.scoring import CONTENT_TYPES, encode_result
    code, body = encode_result(result)
    return 200, CONTENT_TYPES[code], {}, body


def _call(run, *args, **kwargs):
    from amlc.scoring import CLIENT_ERRORS, _exception_line
    started = time.perf_counter()
    try:
        result = run(*args, **kwargs)
    except CLIENT_ERRORS as error:
        status, ctype, headers, body, _ = _message(400, _exception_line(error))
        return status, ctype, headers, body, int((time.perf_counter() - started) * 1e6)
    except Exception as error:  # noqa: BLE001 - the script's failure, a 500
        traceback.print_exc()
        status, ctype, headers, body, _ = _message(500, "%s: %s" % (type(error).__name__, _exception_line(error)))
        return status, ctype, headers, body, int((time.perf_counter() - started) * 1e6)
    elapsed = int((time.perf_counter() - started) * 1e6)
    try:
        status, ctype, headers, body = _encode(result)
    except (TypeError, ValueError) as error:
        return _message(500, "run() returned a value that cannot be sent as JSON: %s" % error)[:4] + (elapsed,)
    return status, ctype, headers, body, elapsed


def score(script, method, path, query, headers, body):
    """One /score request: (status, content type, headers, body bytes, run() microseconds)."""
    from urllib.parse import parse_qsl
    run = script.run_fn
    if _is_rawhttp(run):
        from azureml.contrib.services.aml_request import AMLRequest
        return _call(run, AMLRequest(method, path, query, headers, body))
    if method == "GET":
        data = dict(parse_qsl(query, keep_blank_values=True))
    else:
        try:
            data = json.loads(body.decode("utf-8")) if _schema(run)[0] else None
        except ValueError as error:
            return _message(400, "the request body is not JSON: %s" % error)
    if _schema(run)[0]:
        if not isinstance(data, dict):
            return _message(400, "send a JSON object whose fields are run()'s parameters")
        return _call(run, **data)
    if method == "GET":
        return _call(run, json.dumps(data))
    status, code, out, elapsed = script.score(body)
    from amlc.scoring import CONTENT_TYPES
    return status, CONTENT_TYPES[code], {}, out, elapsed


def swagger(script):
    inputs, output = _schema(script.run_fn)
    if not inputs:
        return _message(404, "the scoring script declares no schema (inference_schema's @input_schema and "
                             "@output_schema), so there is no swagger.json")
    document = {
        "swagger": "2.0",
        "info": {"title": os.environ.get("AMLC_SERVICE_NAME", "amlc scoring service"), "version": "1.0"},
        "schemes": ["http", "https"],
        "consumes": [JSON], "produces": [JSON],
        "securityDefinitions": {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header"}},
        "paths": {
            "/": {"get": {"operationId": "ServiceHealthCheck", "responses": {"200": {"description": "Healthy"}}}},
            "/score": {"post": {
                "operationId": "RunMLService", "security": [{"Bearer": []}],
                "parameters": [{"name": "serviceInputPayload", "in": "body", "required": True,
                                "schema": {"$ref": "#/definitions/ServiceInput"}}],
                "responses": {"200": {"description": "Success", "schema": {"$ref": "#/definitions/ServiceOutput"}},
                              "default": {"description": "Failure", "schema": {"$ref": "#/definitions/ErrorResponse"}}},
            }},
        },
        "definitions": {
            "ServiceInput": inputs,
            "ServiceOutput": output or {"type": "object"},
            "ErrorResponse": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
    }
    return 200, JSON, {}, json.dumps(document).encode("utf-8"), 0


def _model():
    """(name, version) of the model in AZUREML_MODEL_DIR (".../NAME/VERSION")."""
    folder = os.path.normpath(os.environ.get("AZUREML_MODEL_DIR", "model"))
    version = os.path.basename(folder)
    name = os.path.basename(os.path.dirname(folder))
    return (name, version) if version.isdigit() and name else (version or "model", "1")


def _shaped(data, shape):
    if not shape or len(shape) <= 1:
        return list(data)
    step = len(data) // shape[0] if shape[0] else 0
    return [_shaped(data[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _flat(value):
    if isinstance(value, (list, tuple)):
        out, shape = [], [len(value)]
        for item in value:
            flat, inner = _flat(item)
            out.extend(flat)
            shape = [len(value)] + inner
        return out, shape
    return [value], []


def kserve(script, method, path, body, request_id):
    name, version = _model()
    parts = [p for p in path.split("/") if p]  # v2, models, M, [versions, V], [ready|infer]
    if parts == ["v2"] and method == "GET":
        document = {"name": "amlc", "version": "1", "extensions": []}
        return 200, JSON, {}, json.dumps(document).encode("utf-8"), 0
    if len(parts) < 3 or parts[1] != "models":
        return _message(404, "no route %s %s" % (method, path))
    model, rest = parts[2], parts[3:]
    if rest[:1] == ["versions"]:
        if len(rest) < 2 or rest[1] != version:
            return _message(404, "model %s has no version %s; it serves version %s" % (model, rest[1:2], version))
        rest = rest[2:]
    if model != name:
        return _message(404, "this deployment serves model %s, not %s" % (name, model))
    if not rest and method == "GET":
        document = {"name": name, "versions": [version], "platform": "amlc", "inputs": [], "outputs": []}
        return 200, JSON, {}, json.dumps(document).encode("utf-8"), 0
    if rest == ["ready"] and method == "GET":
        return 200, JSON, {}, json.dumps({"name": name, "ready": script.run_fn is not None}).encode("utf-8"), 0
    if rest == ["infer"] and method == "POST":
        return _infer(script, name, version, body, request_id)
    return _message(404, "no route %s %s" % (method, path))


def _infer(script, name, version, body, request_id):
    try:
        request = json.loads(body.decode("utf-8"))
        tensor = request["inputs"][0]
        rows = _shaped(tensor["data"], tensor.get("shape"))
    except (ValueError, KeyError, IndexError, TypeError) as error:
        return _message(400, "send a KServe v2 request {\"inputs\": [{\"name\", \"shape\", \"datatype\", "
                             "\"data\"}]}: %s" % error)
    status, ctype, headers, out, elapsed = score(script, "POST", "/score", "", {},
                                                 json.dumps({"input_data": rows}).encode("utf-8"))
    if status != 200:
        return status, ctype, headers, out, elapsed
    result = json.loads(out.decode("utf-8"))
    if isinstance(result, dict) and len(result) == 1:
        result = next(iter(result.values()))  # {"predictions": [...]}
    data, shape = _flat(result)
    datatype = next((t for kind, t in V2_TYPES if data and isinstance(data[0], kind)), "BYTES")
    answer = {"model_name": name, "model_version": version, "id": request.get("id", request_id),
              "outputs": [{"name": "predict", "shape": shape, "datatype": datatype, "data": data}]}
    return 200, JSON, {}, json.dumps(answer).encode("utf-8"), elapsed


def handle(script, method, path, query, headers, body, request_id=""):
    """Any request the host hands the worker: (status, content type, headers, body, run() microseconds)."""
    if path == "/score":
        return score(script, method, path, query, headers, body)
    if path == "/swagger.json" and method == "GET":
        return swagger(script)
    if path == "/v2" or path.startswith("/v2/models"):
        return kserve(script, method, path, body, request_id)
    return _message(404, "no route %s %s" % (method, path))

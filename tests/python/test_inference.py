"""Tests of amlc.inference: the routes of Azure ML's inference server and KServe v2.

Scripts written for Azure ML (@rawhttp with AMLRequest/AMLResponse,
inference_schema decorators) are served by the standalone server
(python3 -m amlc.scoring) and by a worker over the pipe protocol, with the
stand-ins of amlc/shims since the real packages are not installed here.

Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import textwrap
import unittest

from test_scoring import PYTHON_DIR, free_port, http, scoring, start_worker

RAWHTTP = textwrap.dedent("""\
    import json
    from azureml.contrib.services.aml_request import AMLRequest, rawhttp
    from azureml.contrib.services.aml_response import AMLResponse

    def init():
        pass

    @rawhttp
    def run(request):
        if request.method == "GET":
            return AMLResponse(json.dumps({"hello": request.args.get("name")}), 200,
                               {"x-greeting": "yes"}, json_str=True)
        if request.headers.get("Content-Type") != "application/json":
            return AMLResponse("send JSON", 415)
        return {"method": request.method, "got": request.get_json()}
    """)

SCHEMA = textwrap.dedent("""\
    import numpy as np
    from inference_schema.schema_decorators import input_schema, output_schema
    from inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType
    from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType

    def init():
        pass

    @input_schema("data", NumpyParameterType(np.array([[0.1, 0.2, 0.3]])))
    @input_schema("scale", StandardPythonParameterType(1.0))
    @output_schema(StandardPythonParameterType([0.6]))
    def run(data, scale=1.0):
        return (data.sum(axis=1) * float(scale)).tolist()
    """)

PLAIN = textwrap.dedent("""\
    import json

    def init():
        pass

    def run(raw_data):
        rows = json.loads(raw_data)
        if "input_data" in rows:
            return [sum(r) for r in rows["input_data"]]
        return {"query": rows}
    """)


class InferenceServerTest(unittest.TestCase):
    def start(self, script_text):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = os.path.join(folder.name, "score.py")
        with open(path, "w") as f:
            f.write(script_text)
        model_dir = os.path.join(folder.name, "models", "diabetes", "3")
        os.makedirs(model_dir)
        port = free_port()
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR, AMLC_SCORING_SCRIPT=path, AMLC_PORT=str(port),
                   AMLC_HOST="127.0.0.1", AZUREML_MODEL_DIR=model_dir)
        process = subprocess.Popen([sys.executable, "-m", "amlc.scoring"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (process.kill(), process.wait(), process.stdout.close(), process.stderr.close()))
        line = process.stdout.readline()
        while line and not line.startswith(b"listening"):
            line = process.stdout.readline()
        self.assertTrue(line.startswith(b"listening"), process.stderr.read().decode() if not line else line)
        return port

    def test_rawhttp_gets_the_request_and_answers_with_aml_response(self):
        port = self.start(RAWHTTP)
        status, headers, body = http(port, "GET", "/score?name=ada")
        self.assertEqual((status, json.loads(body), headers["x-greeting"]), (200, {"hello": "ada"}, "yes"))
        status, _, body = http(port, "POST", "/score", b'{"a": 1}', {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(body)), (200, {"method": "POST", "got": {"a": 1}}))
        status, _, body = http(port, "POST", "/score", b"x", {"Content-Type": "text/plain"})
        self.assertEqual((status, body), (415, b"send JSON"))
        self.assertEqual(http(port, "GET", "/swagger.json")[0], 404)

    def test_schema_decorated_run_gets_typed_arguments_and_a_swagger_document(self):
        port = self.start(SCHEMA)
        status, _, body = http(port, "POST", "/score", b'{"data": [[1, 2, 3], [4, 5, 6]], "scale": 2}')
        self.assertEqual((status, json.loads(body)), (200, [12.0, 30.0]))
        status, _, body = http(port, "GET", "/swagger.json")
        self.assertEqual(status, 200)
        swagger = json.loads(body)
        self.assertEqual(swagger["swagger"], "2.0")
        data = swagger["definitions"]["ServiceInput"]["properties"]["data"]
        self.assertEqual((data["type"], data["items"]["type"], data["items"]["items"]["type"]),
                         ("array", "array", "number"))
        self.assertEqual(swagger["definitions"]["ServiceInput"]["properties"]["scale"]["type"], "number")
        self.assertEqual(swagger["definitions"]["ServiceOutput"]["type"], "array")
        self.assertIn("/score", swagger["paths"])

    def test_get_score_passes_the_query_parameters(self):
        port = self.start(PLAIN)
        status, _, body = http(port, "GET", "/score?age=59&bmi=32.1")
        self.assertEqual((status, json.loads(body)), (200, {"query": {"age": "59", "bmi": "32.1"}}))

    def test_kserve_v2_metadata_readiness_and_inference(self):
        port = self.start(PLAIN)
        status, _, body = http(port, "GET", "/v2")
        self.assertEqual((status, json.loads(body)["name"]), (200, "amlc"))
        status, _, body = http(port, "GET", "/v2/models/diabetes")
        self.assertEqual((status, json.loads(body)["versions"]), (200, ["3"]))
        self.assertEqual(http(port, "GET", "/v2/models/diabetes/ready")[0], 200)
        self.assertEqual(http(port, "GET", "/v2/models/diabetes/versions/3/ready")[0], 200)
        self.assertEqual(http(port, "GET", "/v2/models/diabetes/versions/4/ready")[0], 404)
        self.assertEqual(http(port, "GET", "/v2/models/iris")[0], 404)
        request = {"id": "r1", "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64",
                                           "data": [1, 2, 3, 4, 5, 6]}]}
        status, _, body = http(port, "POST", "/v2/models/diabetes/infer", json.dumps(request).encode())
        answer = json.loads(body)
        self.assertEqual(status, 200, body)
        self.assertEqual((answer["model_name"], answer["model_version"], answer["id"]), ("diabetes", "3", "r1"))
        self.assertEqual(answer["outputs"][0]["shape"], [2])
        self.assertEqual(answer["outputs"][0]["data"], [6, 15])
        self.assertEqual(answer["outputs"][0]["datatype"], "INT64")
        self.assertEqual(http(port, "POST", "/v2/models/diabetes/infer", b'{"rows": []}')[0], 400)


class WorkerEnvelopeTest(unittest.TestCase):
    def test_http_requests_and_answers_with_headers_travel_in_envelopes(self):
        with tempfile.TemporaryDirectory() as folder:
            process, request_write, frame = start_worker(folder, RAWHTTP)

            ready = frame()
            self.assertEqual(ready[:2], (scoring.KIND_READY, 200))
            self.assertEqual(ready[4], scoring.READY_WANTS_HTTP)  # POST /score must come in envelopes too
            meta = json.dumps({"method": "GET", "path": "/score", "query": "name=bo", "headers": {}}).encode()
            envelope = struct.pack("<I", len(meta)) + meta
            os.write(request_write, struct.pack("<III", scoring.KIND_HTTP, 2, len(envelope)) + b"r2" + envelope)
            kind, status, content, request_id, body = frame()
            self.assertEqual((kind, status, content, request_id), (scoring.KIND_RESULT, 200, scoring.CT_ENVELOPE, b"r2"))
            answer_meta, answer_body = scoring._open_envelope(body)
            self.assertEqual(answer_meta["headers"], {"x-greeting": "yes"})
            self.assertEqual(json.loads(answer_body), {"hello": "bo"})
            os.close(request_write)
            self.assertEqual(process.wait(timeout=10), 0)
            frame.reader.close()


if __name__ == "__main__":
    unittest.main()

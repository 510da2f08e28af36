"""Tests of amlc.scoring: result encoding, the worker's pipe protocol and the standalone server.

Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import urllib.error
import urllib.request

PYTHON_DIR = os.path.normpath(os.path.join(os.path.realpath(__file__), "..", "..", "..", "python"))
sys.path.insert(0, PYTHON_DIR)

from amlc import scoring  # noqa: E402

SCRIPT = textwrap.dedent("""\
    import json

    def init():
        print("init ran")

    def run(raw_data):
        data = json.loads(raw_data)
        if "fail" in data:
            raise RuntimeError("on purpose")
        if "key" in data:
            return data["missing"]
        return {"echo": data}
    """)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None, headers=None):
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class EncodeResultTest(unittest.TestCase):
    def test_values_become_json(self):
        self.assertEqual(scoring.encode_result({"a": [1, 2]}), (scoring.CT_JSON, b'{"a": [1, 2]}'))
        self.assertEqual(scoring.encode_result(None), (scoring.CT_JSON, b"null"))

    def test_a_str_that_is_json_is_sent_as_is_and_other_text_as_a_json_string(self):
        self.assertEqual(scoring.encode_result('{"x": 1}'), (scoring.CT_JSON, b'{"x": 1}'))
        self.assertEqual(scoring.encode_result("plain"), (scoring.CT_JSON, b'"plain"'))

    def test_bytes_are_sent_as_is(self):
        self.assertEqual(scoring.encode_result(b"\x00\x01"), (scoring.CT_OCTET, b"\x00\x01"))

    def test_numpy_values_are_converted(self):
        import numpy
        _, body = scoring.encode_result({"a": numpy.arange(2), "b": numpy.int64(3), "c": numpy.float32(0.5)})
        self.assertEqual(json.loads(body), {"a": [0, 1], "b": 3, "c": 0.5})


class ScriptTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "score.py")
        with open(self.path, "w") as f:
            f.write(SCRIPT)
        self.script = scoring.Script(self.path)
        self.script.load_and_init()

    def tearDown(self):
        self.dir.cleanup()

    def test_run_result_and_errors(self):
        status, _, body, _ = self.script.score(b'{"a": 1}')
        self.assertEqual((status, json.loads(body)), (200, {"echo": {"a": 1}}))
        status, _, body, _ = self.script.score(b"{bad")
        self.assertEqual(status, 400)
        self.assertIn("Expecting property name", json.loads(body)["message"])
        status, _, body, _ = self.script.score(b'{"key": 1}')
        self.assertEqual((status, json.loads(body)), (400, {"message": "missing key 'missing'"}))
        with open(os.devnull, "w") as devnull:
            stderr, sys.stderr = sys.stderr, devnull
            try:
                status, _, body, _ = self.script.score(b'{"fail": 1}')
            finally:
                sys.stderr = stderr
        self.assertEqual((status, json.loads(body)), (500, {"message": "RuntimeError: on purpose"}))
        status, _, body, _ = self.script.score(b"\xff")
        self.assertEqual(status, 400)


def start_worker(folder, script_text):
    """A worker (python3 -m amlc.scoring --worker) on `script_text`, its pipes as amlc serve sets them up.

    Returns (process, the request pipe's write end, frame), frame() reading one
    response: (kind, status, content, request id, body).
    """
    path = os.path.join(folder, "score.py")
    with open(path, "w") as f:
        f.write(script_text)
    request_read, request_write = os.pipe()
    response_read, response_write = os.pipe()
    env = dict(os.environ, PYTHONPATH=PYTHON_DIR, AZUREML_ENTRY_SCRIPT=path)

    def child_fds():  # the worker's fds 3 and 4
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (request_read, response_write)]
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)

    process = subprocess.Popen([sys.executable, "-m", "amlc.scoring", "--worker"], env=env,
                               pass_fds=(3, 4), preexec_fn=child_fds,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(request_read)
    os.close(response_write)
    reader = os.fdopen(response_read, "rb")

    def frame():
        kind, status, content, _, id_len, body_len = scoring.RESPONSE.unpack(reader.read(scoring.RESPONSE.size))
        return kind, status, content, reader.read(id_len), reader.read(body_len)

    frame.reader = reader
    return process, request_write, frame


class WorkerProtocolTest(unittest.TestCase):
    def test_ready_then_one_result_per_request_then_exit_on_eof(self):
        with tempfile.TemporaryDirectory() as folder:
            process, request_write, frame = start_worker(folder, SCRIPT)

            self.assertEqual(frame()[:2], (scoring.KIND_READY, 200))
            for body in (b'{"n": 1}', b"nope"):
                os.write(request_write, struct.pack("<III", 1, 3, len(body)) + b"r-1" + body)
                kind, status, content, request_id, out = frame()
                self.assertEqual((kind, request_id, content), (scoring.KIND_RESULT, b"r-1", scoring.CT_JSON))
                self.assertEqual(status, 200 if body.startswith(b"{") else 400)
            os.close(request_write)
            self.assertEqual(process.wait(timeout=10), 0)
            frame.reader.close()


class StandaloneServerTest(unittest.TestCase):
    def start(self, script_text, **env):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        path = os.path.join(folder.name, "score.py")
        with open(path, "w") as f:
            f.write(script_text)
        port = free_port()
        environment = dict(os.environ, PYTHONPATH=PYTHON_DIR, AMLC_SCORING_SCRIPT=path, AMLC_PORT=str(port),
                           AMLC_HOST="127.0.0.1", **env)
        process = subprocess.Popen([sys.executable, "-m", "amlc.scoring"], env=environment,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (process.kill(), process.wait(), process.stdout.close(), process.stderr.close()))
        line = process.stdout.readline()
        while line and not line.startswith(b"listening"):  # what init() printed
            line = process.stdout.readline()
        self.assertEqual(line, b"listening on 127.0.0.1:%d\n" % port)
        return port, folder.name

    def test_routes(self):
        port, folder = self.start(SCRIPT, AMLC_MAX_BODY_BYTES="100")
        self.assertEqual(http(port, "GET", "/")[2], b"Healthy")
        self.assertEqual(http(port, "GET", "/v2/health/live")[0], 200)
        self.assertEqual(http(port, "GET", "/health/ready")[0], 200)
        self.assertEqual(http(port, "GET", "/v2/health/ready")[0], 200)
        status, headers, body = http(port, "POST", "/score", b'{"a": 1}', {"x-request-id": "abc"})
        self.assertEqual((status, json.loads(body)), (200, {"echo": {"a": 1}}))
        self.assertEqual(headers["x-request-id"], "abc")
        self.assertIn("x-ms-run-fn-exec-ms", headers)
        self.assertEqual(http(port, "POST", "/score", b"{bad")[0], 400)
        self.assertEqual(http(port, "POST", "/score", b"x" * 200)[0], 413)

    def test_keys(self):
        folder = tempfile.mkdtemp()
        keys = os.path.join(folder, "keys.json")
        with open(keys, "w") as f:
            json.dump({"primary": "one", "secondary": "two"}, f)
        port, _ = self.start(SCRIPT, AMLC_KEYS_FILE=keys)
        self.assertEqual(http(port, "POST", "/score", b"{}")[0], 401)
        self.assertEqual(http(port, "POST", "/score", b"{}", {"Authorization": "Bearer two"})[0], 200)
        os.remove(keys)
        os.rmdir(folder)

    def test_failed_init_is_not_ready(self):
        port, _ = self.start("def init():\n    raise ValueError('no model')\n\ndef run(raw):\n    return raw\n")
        status, _, body = http(port, "GET", "/health/ready")
        self.assertEqual(status, 503)
        self.assertIn("ValueError: no model", json.loads(body)["reason"])
        self.assertEqual(http(port, "GET", "/")[0], 200)


if __name__ == "__main__":
    unittest.main()

"""Tests of the amlc Python logging module (python/amlc) and its tracking-file protocol.

Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
from decimal import Decimal
from fractions import Fraction
from unittest import mock

PYTHON_DIR = os.path.normpath(os.path.join(os.path.realpath(__file__), "..", "..", "..", "python"))
sys.path.insert(0, PYTHON_DIR)

import amlc  # noqa: E402
from amlc import _run  # noqa: E402

METRIC_VALUE_KEYS = {"t", "run", "name", "step", "value", "ts"}
METRIC_TEXT_KEYS = {"t", "run", "name", "step", "text", "ts"}


class TailReader:
    """The reader rule of python/README.md: parse complete lines only, keep the rest."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.records = []
        self.bad_lines = 0

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n")
        if end < 0:
            return  # only a partial line so far
        for line in data[:end].split(b"\n"):
            try:
                record = json.loads(line.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError(line)
                self.records.append(record)
            except ValueError:
                self.bad_lines += 1
        self.offset += end + 1

    def tail(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            return f.read()


def read_records(path):
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return []
    text = data.decode("utf-8")  # must be valid UTF-8
    assert text.endswith("\n"), "file does not end in a whole line: %r" % text[-80:]
    return [json.loads(line) for line in text.split("\n")[:-1]]


def file_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def subprocess_env(tmp, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMLC_")}
    env["PYTHONPATH"] = PYTHON_DIR
    env.update(extra)
    return env


class RunTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="amlc-test-")
        self.tmp = self._tmp.name
        self.tracking = os.path.join(self.tmp, "tracking.jsonl")
        self.outputs = os.path.join(self.tmp, "outputs")
        self.runs = []

    def tearDown(self):
        for run in self.runs:
            run._sink.close()
        self._tmp.cleanup()

    def open_run(self, run_id="run-1", experiment="exp"):
        run = _run.open_run(run_id, experiment, self.tracking, self.outputs)
        self.runs.append(run)
        return run

    def records(self, run=None):
        if run is not None:
            run.flush()
        return read_records(self.tracking)

    def metrics(self, run, name=None):
        return [r for r in self.records(run)
                if r["t"] == "metric" and (name is None or r["name"] == name)]


class RecordFieldsTest(RunTestCase):
    def test_metric_fields_and_types(self):
        run = self.open_run("r-42", "exp")
        before = time.time_ns() // 1000000
        run.log("accuracy", 0.93)
        run.log("epochs", 7)
        run.log("label", "cat")
        after = time.time_ns() // 1000000
        records = self.records(run)
        self.assertEqual(len(records), 3)
        acc, epochs, label = records
        self.assertEqual(set(acc), METRIC_VALUE_KEYS)
        self.assertEqual(acc["t"], "metric")
        self.assertEqual(acc["run"], "r-42")
        self.assertEqual(acc["name"], "accuracy")
        self.assertEqual(acc["step"], 0)
        self.assertIsInstance(acc["step"], int)
        self.assertEqual(acc["value"], 0.93)
        self.assertIsInstance(acc["value"], float)
        self.assertIsInstance(acc["ts"], int)
        self.assertTrue(before <= acc["ts"] <= after, (before, acc["ts"], after))
        self.assertEqual(epochs["value"], 7)
        self.assertIsInstance(epochs["value"], int)
        self.assertEqual(set(label), METRIC_TEXT_KEYS)
        self.assertEqual(label["text"], "cat")

    def test_first_record_line_exactly(self):
        run = self.open_run("r-1")
        run.log("accuracy", 0.5, step=3)
        run.flush()
        with open(self.tracking, encoding="utf-8") as f:
            line = f.read()
        ts = json.loads(line)["ts"]
        self.assertEqual(line, '{"t":"metric","run":"r-1","name":"accuracy","step":3,'
                               '"value":0.5,"ts":%d}\n' % ts)

    def test_value_kinds(self):
        class Scalar:  # like a numpy or torch scalar
            def __float__(self):
                return 2.5

        class Opaque:
            def __str__(self):
                return "opaque!"

        class SubFloat(float):
            pass

        run = self.open_run()
        values = [True, False, Scalar(), Decimal("1.25"), Fraction(1, 4), Opaque(), None,
                  SubFloat(1.5), 1e-5, -0.0, 2 ** 62, 2 ** 70, 10 ** 400, -10 ** 400, [1, 2]]
        for value in values:
            run.log("v", value)
        got = [r.get("value", r.get("text")) for r in self.metrics(run, "v")]
        self.assertEqual(got, [1, 0, 2.5, 1.25, 0.25, "opaque!", "None", 1.5, 1e-5, -0.0,
                               2 ** 62, float(2 ** 70), "Infinity", "-Infinity", "[1, 2]"])

    def test_escaping_and_utf8(self):
        run = self.open_run('run "quoted"')
        name = 'we"ird\\name\n\t\x01 ünïcödé 日本'
        run.log(name, 1)
        run.log("text", 'a "b" \\ c\nd\u2028 é \x00')
        run.log("surrogate", "bad \udc80 char")
        run.tag('k"ey', 'v\nal')
        records = self.records(run)
        self.assertEqual(records[0]["run"], 'run "quoted"')
        self.assertEqual(records[0]["name"], name)
        self.assertEqual(records[1]["text"], 'a "b" \\ c\nd\u2028 é \x00')
        self.assertEqual(records[2]["text"], "bad ? char")
        self.assertEqual((records[3]["key"], records[3]["value"]), ('k"ey', "v\nal"))
        with open(self.tracking, "rb") as f:
            raw = f.read()
        self.assertEqual(raw.count(b"\n"), 4)  # no raw LF inside a record
        self.assertIn("日本".encode("utf-8"), raw)  # non-ASCII kept as UTF-8

    def test_tags(self):
        run = self.open_run()
        run.tag("framework", "sklearn")
        run.tag("flag")
        run.tag("n", 3)
        run.set_tags({"a": "1", "b": 2})
        run.set_tags(["c"])
        tags = self.records(run)
        for record in tags:
            self.assertEqual(set(record), {"t", "run", "key", "value", "ts"})
            self.assertEqual(record["t"], "tag")
            self.assertIsInstance(record["value"], str)
        self.assertEqual([(r["key"], r["value"]) for r in tags],
                         [("framework", "sklearn"), ("flag", ""), ("n", "3"), ("a", "1"),
                          ("b", "2"), ("c", "")])

    @mock.patch.object(_run, "BATCH_SECONDS", 3600)  # only the count and complete() write
    def test_status_records_flush(self):
        run = self.open_run()
        run.log("x", 1)
        self.assertEqual(file_size(self.tracking), 0)
        run.complete()
        records = read_records(self.tracking)  # no flush(): complete() wrote them
        self.assertEqual([r["t"] for r in records], ["metric", "status"])
        self.assertEqual(set(records[1]), {"t", "run", "status", "message", "ts"})
        self.assertEqual((records[1]["status"], records[1]["message"]), ("Completed", ""))
        run.fail("out of memory")
        last = read_records(self.tracking)[-1]
        self.assertEqual((last["status"], last["message"]), ("Failed", "out of memory"))

    def test_identity(self):
        run = self.open_run("abc", "my-exp")
        self.assertEqual(run.id, "abc")
        self.assertEqual(run.experiment, "my-exp")
        self.assertEqual(run.experiment.name, "my-exp")
        self.assertIsNone(run.parent)

    def test_bad_step(self):
        run = self.open_run()
        with self.assertRaises(ValueError):
            run.log("x", 1, step=1.5)
        with self.assertRaises(TypeError):
            run.log("x", 1, step="3")
        with self.assertRaises(ValueError):
            run.log("x", 1, step=2 ** 63)
        run.log("x", 1, step=2.0)
        self.assertEqual(self.metrics(run, "x")[0]["step"], 2)


class StepTest(RunTestCase):
    def test_auto_increment_per_name(self):
        run = self.open_run()
        for i in range(3):
            run.log("a", i)
        run.log("b", 9)
        run.log("a", 3)
        self.assertEqual([r["step"] for r in self.metrics(run, "a")], [0, 1, 2, 3])
        self.assertEqual([r["step"] for r in self.metrics(run, "b")], [0])

    def test_explicit_step_moves_counter(self):
        run = self.open_run()
        run.log("a", 1)             # 0
        run.log("a", 1, step=10)    # 10
        run.log("a", 1)             # 11
        run.log("a", 1, step=5)     # 5, counter stays at 12
        run.log("a", 1)             # 12
        self.assertEqual([r["step"] for r in self.metrics(run, "a")], [0, 10, 11, 5, 12])

    def test_log_list(self):
        run = self.open_run()
        run.log_list("losses", [0.5, 0.4, 0.3])
        points = self.metrics(run, "losses")
        self.assertEqual([(r["step"], r["value"]) for r in points], [(0, 0.5), (1, 0.4), (2, 0.3)])
        run.log_list("labels", iter(["a", "b"]))
        self.assertEqual([(r["step"], r["text"]) for r in self.metrics(run, "labels")],
                         [(0, "a"), (1, "b")])

    def test_log_row(self):
        run = self.open_run()
        run.log_row("roc", fpr=0.1, tpr=0.5)
        run.log_row("roc", fpr=0.2, tpr=0.7, note="x")
        points = [(r["name"], r["step"], r.get("value", r.get("text"))) for r in self.metrics(run)]
        self.assertEqual(points, [("roc.fpr", 0, 0.1), ("roc.tpr", 0, 0.5),
                                  ("roc.fpr", 1, 0.2), ("roc.tpr", 1, 0.7), ("roc.note", 1, "x")])

    def test_log_table(self):
        run = self.open_run()
        run.log_table("t", {"x": [1, 2, 3], "y": [4, 5, 6]})
        points = [(r["name"], r["step"], r["value"]) for r in self.metrics(run)]
        self.assertEqual(points, [("t.x", 0, 1), ("t.y", 0, 4), ("t.x", 1, 2), ("t.y", 1, 5),
                                  ("t.x", 2, 3), ("t.y", 2, 6)])
        run.log_row("t", x=7, y=8)  # rows continue
        self.assertEqual(self.metrics(run)[-1]["step"], 3)
        with self.assertRaises(ValueError):
            run.log_table("bad", {"x": [1, 2], "y": [1]})


class NonFiniteTest(RunTestCase):
    def test_nan_and_infinity_as_strings(self):
        run = self.open_run()
        for value in (float("nan"), float("inf"), float("-inf"), math.nan, 1.0):
            run.log("v", value)
        run.log_row("row", a=float("nan"))
        run.flush()
        with open(self.tracking, encoding="utf-8") as f:
            raw = f.read()
        for line in raw.splitlines():  # strict JSON: no NaN/Infinity literals
            json.loads(line, parse_constant=lambda c: self.fail("bare constant " + c))
        values = [r["value"] for r in read_records(self.tracking)]
        self.assertEqual(values, ["NaN", "Infinity", "-Infinity", "NaN", 1.0, "NaN"])


class ChildRunTest(RunTestCase):
    def test_child_ids_and_records(self):
        run = self.open_run("p")
        a = run.child_run("trial 1")
        b = run.child_run()
        c = run.child_run()
        d = run.child_run("trial 1")
        grand = a.child_run("inner")
        self.assertEqual([a.id, b.id, c.id, d.id, grand.id],
                         ["p.trial_1", "p.child-1", "p.child-2", "p.trial_1-2", "p.trial_1.inner"])
        self.assertIs(grand.parent, a)
        self.assertEqual(a.name, "trial 1")
        self.assertEqual(a.experiment, "exp")
        a.log("loss", 0.5)
        a.log("loss", 0.4)
        run.log("loss", 9)
        grand.tag("k", "v")
        grand.complete()
        records = self.records(run)
        children = [r for r in records if r["t"] == "child"]
        self.assertEqual([(r["run"], r["parent"], r["name"]) for r in children],
                         [("p.trial_1", "p", "trial 1"), ("p.child-1", "p", "child-1"),
                          ("p.child-2", "p", "child-2"), ("p.trial_1-2", "p", "trial 1"),
                          ("p.trial_1.inner", "p.trial_1", "inner")])
        for r in children:
            self.assertEqual(set(r), {"t", "run", "parent", "name", "ts"})
        loss = [(r["run"], r["step"]) for r in records if r["t"] == "metric"]
        self.assertEqual(loss, [("p.trial_1", 0), ("p.trial_1", 1), ("p", 0)])  # own counters
        self.assertEqual([r["run"] for r in records if r["t"] in ("tag", "status")],
                         ["p.trial_1.inner", "p.trial_1.inner"])

    def test_child_record_precedes_child_records(self):
        run = self.open_run("p")
        known = {"p"}
        for i in range(5):
            child = run.child_run()
            child.log("x", i)
            child.child_run("g").log("y", i)
        for record in self.records(run):
            if record["t"] == "child":
                self.assertIn(record["parent"], known)
                known.add(record["run"])
            else:
                self.assertIn(record["run"], known)

    def test_child_as_context_manager(self):
        run = self.open_run("p")
        with run.child_run("ok") as child:
            child.log("x", 1)
        with self.assertRaises(KeyError):
            with run.child_run("bad"):
                raise KeyError("boom")
        statuses = [(r["run"], r["status"], r["message"]) for r in self.records(run)
                    if r["t"] == "status"]
        self.assertEqual(statuses, [("p.ok", "Completed", ""), ("p.bad", "Failed", "KeyError: 'boom'")])


class BatchingTest(RunTestCase):
    @mock.patch.object(_run, "BATCH_SECONDS", 3600)  # a stalled machine must not write early
    def test_nothing_written_before_threshold(self):
        run = self.open_run()
        for i in range(_run.BATCH_RECORDS - 1):
            run.log("x", i)
        self.assertEqual(file_size(self.tracking), 0)
        run.log("x", 999)  # the 1000th pending record
        records = read_records(self.tracking)
        self.assertEqual(len(records), _run.BATCH_RECORDS)
        self.assertEqual([r["value"] for r in records], list(range(1000)))
        run.log("x", 1000)
        self.assertEqual(len(read_records(self.tracking)), 1000)

    def test_written_by_a_call_after_half_a_second(self):
        run = self.open_run()
        run.log("x", 1)
        if time.monotonic() - run._sink.last < _run.BATCH_SECONDS * 0.8:  # not on a stalled machine
            self.assertEqual(file_size(self.tracking), 0)
        run._sink.last -= _run.BATCH_SECONDS  # as if the last write was 0.5 s ago
        run.log("x", 2)
        self.assertEqual([r["value"] for r in read_records(self.tracking)], [1, 2])

    def test_pending_records_written_within_a_second_without_calls(self):
        run = self.open_run()
        start = time.monotonic()
        run.log("x", 1)
        run.log("x", 2)
        time.sleep(0.2)
        if time.monotonic() - start < 0.45:  # not yet due (skip the check on a stalled machine)
            self.assertEqual(file_size(self.tracking), 0)
        deadline = time.monotonic() + 5
        while file_size(self.tracking) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        waited = time.monotonic() - start
        self.assertEqual([r["value"] for r in read_records(self.tracking)], [1, 2])
        self.assertGreaterEqual(waited, _run.BATCH_SECONDS - 0.05)

    def test_flush(self):
        run = self.open_run()
        run.log("x", 1)
        run.flush()
        self.assertEqual(len(read_records(self.tracking)), 1)
        run.log("x", 2)
        amlc.flush()
        self.assertEqual(len(read_records(self.tracking)), 2)

    @mock.patch.object(_run, "BATCH_SECONDS", 3600)
    def test_one_write_per_batch_of_whole_lines(self):
        run = self.open_run()
        chunks = []
        real_write = os.write

        def recording_write(fd, data):
            if fd == run._sink.fd:
                chunks.append(bytes(data))
            return real_write(fd, data)

        with mock.patch.object(_run.os, "write", recording_write):
            for i in range(2500):
                run.log("x", i)
            run.log("s", "text\nwith newline")
            run.flush()
        self.assertEqual([c.count(b"\n") for c in chunks], [1000, 1000, 501])
        for chunk in chunks:
            self.assertTrue(chunk.endswith(b"\n"))
            for line in chunk.split(b"\n")[:-1]:
                json.loads(line)

    def test_everything_written_at_exit(self):
        script = textwrap.dedent("""
            from amlc import run
            for i in range(1234):
                run.log("x", i)
            run.tag("k", "v")
            run.child_run("c").log("y", 1)
        """)
        self.run_script(script, expect_rc=0)
        records = read_records(self.tracking)
        self.assertEqual(len(records), 1234 + 3)
        self.assertEqual([r["step"] for r in records if r.get("name") == "x"], list(range(1234)))

    def test_written_at_exit_after_an_exception(self):
        script = "from amlc import run\nrun.log('x', 1)\nraise SystemExit(3)\n"
        self.run_script(script, expect_rc=3)
        self.assertEqual(len(read_records(self.tracking)), 1)
        script = "from amlc import run\nrun.log('x', 1)\nraise RuntimeError('boom')\n"
        self.run_script(script, expect_rc=1)
        self.assertEqual(len(read_records(self.tracking)), 2)

    def run_script(self, script, expect_rc):
        env = subprocess_env(self.tmp, AMLC_RUN_ID="sub-1", AMLC_EXPERIMENT="e",
                             AMLC_TRACKING_FILE=self.tracking, AMLC_OUTPUTS_DIR=self.outputs)
        proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, expect_rc, proc.stderr)
        self.assertEqual(proc.stdout, "")  # online: nothing printed
        return proc


class UploadFileTest(RunTestCase):
    def test_path_bytes_and_streams(self):
        run = self.open_run("r")
        src = os.path.join(self.tmp, "model.pkl")
        with open(src, "wb") as f:
            f.write(b"\x00model\xff" * 1000)
        dest = run.upload_file("model.pkl", src)
        self.assertEqual(dest, os.path.join(self.outputs, "model.pkl"))
        run.upload_file("outputs/deep/er/stream.bin", io.BytesIO(b"stream"))
        run.upload_file("./notes.txt", io.StringIO("héllo"))
        run.upload_file("raw.bin", b"raw")
        with open(os.path.join(self.outputs, "model.pkl"), "rb") as f:
            self.assertEqual(f.read(), b"\x00model\xff" * 1000)
        with open(os.path.join(self.outputs, "deep", "er", "stream.bin"), "rb") as f:
            self.assertEqual(f.read(), b"stream")
        with open(os.path.join(self.outputs, "notes.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "héllo")
        with open(os.path.join(self.outputs, "raw.bin"), "rb") as f:
            self.assertEqual(f.read(), b"raw")
        files = self.records(run)
        for record in files:
            self.assertEqual(set(record), {"t", "run", "name", "path", "ts"})
            self.assertEqual(record["t"], "file")
        self.assertEqual([(r["name"], r["path"]) for r in files],
                         [("outputs/model.pkl", "model.pkl"),
                          ("outputs/deep/er/stream.bin", "deep/er/stream.bin"),
                          ("outputs/notes.txt", "notes.txt"), ("outputs/raw.bin", "raw.bin")])
        leftovers = [n for _, _, names in os.walk(self.outputs) for n in names if n.startswith(".")]
        self.assertEqual(leftovers, [])

    def test_file_already_in_place(self):
        run = self.open_run()
        os.makedirs(self.outputs)
        path = os.path.join(self.outputs, "m.txt")
        with open(path, "w") as f:
            f.write("in place")
        run.upload_file("outputs/m.txt", path)
        with open(path) as f:
            self.assertEqual(f.read(), "in place")
        self.assertEqual(self.records(run)[0]["name"], "outputs/m.txt")

    def test_replaces_existing_file(self):
        run = self.open_run()
        run.upload_file("m.txt", b"one")
        run.upload_file("m.txt", b"two")
        with open(os.path.join(self.outputs, "m.txt"), "rb") as f:
            self.assertEqual(f.read(), b"two")

    def test_child_files_in_their_own_folder(self):
        run = self.open_run("p")
        child = run.child_run("t1")
        child.upload_file("model.pkl", b"child")
        child.child_run().upload_file("model.pkl", b"grandchild")
        run.upload_file("model.pkl", b"parent")
        files = [(r["run"], r["name"], r["path"]) for r in self.records(run) if r["t"] == "file"]
        self.assertEqual(files, [
            ("p.t1", "outputs/model.pkl", "_children/t1/model.pkl"),
            ("p.t1.child-0", "outputs/model.pkl", "_children/t1/_children/child-0/model.pkl"),
            ("p", "outputs/model.pkl", "model.pkl")])
        for _, _, path in files:
            self.assertTrue(os.path.isfile(os.path.join(self.outputs, *path.split("/"))))

    def test_bad_names_and_sources(self):
        run = self.open_run()
        for name in ("/etc/passwd", "../escape", "a/../../escape", "", ".", "outputs/"):
            with self.assertRaises(ValueError, msg=name):
                run.upload_file(name, b"x")
        with self.assertRaises(FileNotFoundError):
            run.upload_file("x", os.path.join(self.tmp, "missing"))
        with self.assertRaises(TypeError):
            run.upload_file("x", 42)
        self.assertEqual(self.records(run), [])
        self.assertFalse(os.path.exists(self.outputs))  # nothing created for a bad call
        leftovers = [n for _, _, names in os.walk(self.tmp) for n in names if n.startswith(".amlc")]
        self.assertEqual(leftovers, [])


class OfflineTest(RunTestCase):
    def test_offline_prints(self):
        run = _run.open_offline("OfflineRun_x", "offline", self.outputs)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            run.log("accuracy", 0.93)
            run.log("accuracy", 0.95)
            run.log("label", "cat", step=7)
            run.log_row("roc", fpr=0.1)
            run.tag("k", "v")
            child = run.child_run("trial")
            child.log("loss", 0.5)
            path = run.upload_file("model.txt", b"m")
            run.complete()
            run.fail("boom")
            run.flush()
        self.assertEqual(out.getvalue().splitlines(), [
            "[amlc] accuracy = 0.93 (step 0)",
            "[amlc] accuracy = 0.95 (step 1)",
            "[amlc] label = cat (step 7)",
            "[amlc] roc.fpr = 0.1 (step 0)",
            "[amlc] tag k = v",
            "[amlc] child run [trial] started",
            "[amlc] [trial] loss = 0.5 (step 0)",
            "[amlc] uploaded outputs/model.txt -> " + path,
            "[amlc] run completed",
            "[amlc] run failed: boom",
        ])
        self.assertTrue(os.path.isfile(os.path.join(self.outputs, "model.txt")))
        self.assertFalse(os.path.exists(self.tracking))

    def test_script_outside_amlc(self):
        script = textwrap.dedent("""
            import amlc
            from amlc import run, Run
            assert run is Run.get_context() is amlc.run
            assert run.id.startswith("OfflineRun_"), run.id
            run.log("accuracy", 0.93, step=3)
            run.upload_file("model.bin", b"weights")
            try:
                Run.get_context(allow_offline=False)
            except RuntimeError:
                print("not online")
        """)
        env = subprocess_env(self.tmp)
        proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertEqual(lines[0], "[amlc] accuracy = 0.93 (step 3)")
        self.assertTrue(lines[1].startswith("[amlc] uploaded outputs/model.bin -> "), lines[1])
        self.assertEqual(lines[2], "not online")
        with open(os.path.join(self.tmp, "outputs", "model.bin"), "rb") as f:
            self.assertEqual(f.read(), b"weights")

    def test_run_id_without_tracking_file_prints(self):
        env = subprocess_env(self.tmp, AMLC_RUN_ID="r")
        proc = subprocess.run([sys.executable, "-c", "from amlc import run; run.log('a', 1)"],
                              env=env, cwd=self.tmp, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "[amlc] a = 1 (step 0)\n")
        self.assertIn("AMLC_TRACKING_FILE", proc.stderr)


class ContextTest(RunTestCase):
    def test_context_from_environment(self):
        script = textwrap.dedent("""
            from amlc import Run
            import amlc
            run = Run.get_context(allow_offline=False)
            assert run is amlc.run
            print(run.id, run.experiment)
            run.upload_file("f.txt", b"x")
        """)
        env = subprocess_env(self.tmp, AMLC_RUN_ID="job-20240101-000000-abcd",
                             AMLC_EXPERIMENT="iris", AMLC_TRACKING_FILE=self.tracking,
                             AMLC_OUTPUTS_DIR=self.outputs)
        proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=self.tmp,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "job-20240101-000000-abcd iris\n")
        self.assertEqual(read_records(self.tracking)[0]["run"], "job-20240101-000000-abcd")
        self.assertTrue(os.path.isfile(os.path.join(self.outputs, "f.txt")))

    def test_unopenable_tracking_file_raises(self):
        with self.assertRaises(OSError) as caught:
            _run.open_run("r", "e", os.path.join(self.tmp, "missing-dir", "t.jsonl"))
        self.assertIn("AMLC_TRACKING_FILE", str(caught.exception))

    def test_import_opens_nothing(self):
        env = subprocess_env(self.tmp, AMLC_RUN_ID="r", AMLC_TRACKING_FILE=self.tracking)
        proc = subprocess.run([sys.executable, "-c", "import amlc; from amlc import Run"],
                              env=env, cwd=self.tmp, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertFalse(os.path.exists(self.tracking))


class ConcurrencyTest(RunTestCase):
    def test_threads_logging_concurrently(self):
        run = self.open_run()
        threads, per_thread = 8, 5000
        barrier = threading.Barrier(threads)

        def work(k):
            child = run.child_run("t%d" % k)
            barrier.wait()
            for i in range(per_thread):
                run.log("shared", i)
                run.log("own-%d" % k, i)
                child.log("c", i)
                if i % 1000 == 0:
                    run.tag("t%d" % k, i)

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        records = self.records(run)
        shared = sorted(r["step"] for r in records if r.get("name") == "shared")
        self.assertEqual(shared, list(range(threads * per_thread)))
        for k in range(threads):
            own = [r["value"] for r in records if r.get("name") == "own-%d" % k]
            self.assertEqual(own, list(range(per_thread)))  # per-thread order kept
            steps = [r["step"] for r in records if r["run"] == "run-1.t%d" % k and r["t"] == "metric"]
            self.assertEqual(steps, list(range(per_thread)))

    def test_forked_child_starts_with_an_empty_batch(self):
        if not hasattr(os, "fork"):
            self.skipTest("no fork")
        run = self.open_run()
        run.log("before", 1)  # pending in the parent at fork time
        self.assertEqual(file_size(self.tracking), 0)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                run.log("in-child", 2)
                run.flush()
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(status, 0)
        names = [r["name"] for r in read_records(self.tracking)]
        # written once, by the parent before forking, so it precedes the child's records
        self.assertEqual(names, ["before", "in-child"])


class PartialLineTest(RunTestCase):
    def test_reader_sees_only_whole_records_while_script_runs(self):
        script = textwrap.dedent("""
            import time
            from amlc import run
            long = "x" * 3000
            for i in range(20000):
                run.log("v", i)
                if i % 7 == 0:
                    run.log("s", long)
                if i % 2000 == 0:
                    time.sleep(0.01)
        """)
        env = subprocess_env(self.tmp, AMLC_RUN_ID="r", AMLC_TRACKING_FILE=self.tracking,
                             AMLC_OUTPUTS_DIR=self.outputs)
        reader = TailReader(self.tracking)
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=self.tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        polls = 0
        while proc.poll() is None:
            reader.poll()
            polls += 1
        reader.poll()
        self.assertEqual(proc.wait(timeout=60), 0, proc.stderr.read())
        proc.stderr.close()
        self.assertGreater(polls, 1)
        self.assertEqual(reader.bad_lines, 0)
        self.assertEqual(reader.tail(), b"")
        self.assertEqual([r["value"] for r in reader.records if r["name"] == "v"], list(range(20000)))
        self.assertEqual(sum(1 for r in reader.records if r["name"] == "s"), len(range(0, 20000, 7)))

    def test_reader_keeps_a_partial_last_line(self):
        with open(self.tracking, "wb") as f:
            f.write(b'{"t":"tag","run":"r","key":"a","value":"1","ts":1}\n{"t":"tag","ru')
        reader = TailReader(self.tracking)
        reader.poll()
        self.assertEqual(len(reader.records), 1)
        with open(self.tracking, "ab") as f:
            f.write(b'n":"r","key":"b","value":"2","ts":2}\n')
        reader.poll()
        self.assertEqual([r["key"] for r in reader.records], ["a", "b"])
        self.assertEqual(reader.bad_lines, 0)

    def test_failed_partial_write_does_not_corrupt_later_records(self):
        run = self.open_run()
        real_write = os.write
        calls = []

        def half_then_fail(fd, data):
            calls.append(len(data))
            if len(calls) == 1:
                return real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(28, "No space left on device")

        stderr = io.StringIO()
        with mock.patch.object(_run.os, "write", half_then_fail), \
                contextlib.redirect_stderr(stderr):
            run.log("lost", 1)
            run.flush()
        self.assertIn("No space left on device", stderr.getvalue())
        run.log("kept", 3)
        run.flush()
        reader = TailReader(self.tracking)
        reader.poll()
        self.assertEqual(reader.bad_lines, 1)  # the half line, now terminated
        self.assertEqual([r["name"] for r in reader.records], ["kept"])
        self.assertEqual(reader.tail(), b"")


if __name__ == "__main__":
    unittest.main()

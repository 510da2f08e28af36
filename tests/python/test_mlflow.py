"""Tests of amlc's mlflow stand-in (python/fallback/mlflow): each script runs in its own
interpreter as amlc runs it (AMLC_* variables, PYTHONPATH = python:python/fallback) and
the test reads the tracking file and the files it wrote.

Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""

import json
import os
import platform
import pickle
import struct
import subprocess
import sys
import tempfile
import textwrap
import unittest
import zlib

PYTHON_DIR = os.path.normpath(os.path.join(os.path.realpath(__file__), "..", "..", "..", "python"))
FALLBACK_DIR = os.path.join(PYTHON_DIR, "fallback")


def _has(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


HAS_SKLEARN = _has("sklearn")
HAS_PANDAS = _has("pandas")

# An MLmodel file exactly as MLflow 2.4.0 wrote it (from MLflow's own test
# suite, tests/sklearn: "sklearn compatible with mlflow 2.4.0").
MLFLOW_2_4_MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.8.16
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.2.2
mlflow_version: 2.4.0
model_uuid: c9833d74b1ff4013a1c9eff05d39eeef
run_id: 8146a2ae86104f5b853351e600fc9d7b
utc_time_created: '2023-07-04 07:19:43.561797'
"""

# The MLmodel of Azure/azureml-examples cli/assets/model/mlflow-model (an
# older MLflow: `env` is one conda file, a column signature).
AZUREML_EXAMPLE_MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.8.18
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 0.24.1
run_id: a57c2e43-4dcd-4188-944a-839bcba35331
signature:
  inputs: '[{"name": "sepal_length", "type": "double"}, {"name": "sepal_width", "type":
    "double"}, {"name": "petal_length", "type": "double"}, {"name": "petal_width",
    "type": "double"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "object", "shape": [-1]}}]'
utc_time_created: '2021-09-27 22:56:49.962300'
"""


class ScriptRun:
    """A folder, a script in it, and the tracking file amlc would give it."""

    def __init__(self, test, script, run_id="train-1"):
        self.dir = tempfile.mkdtemp(prefix="amlc-mlflow-")
        test.addCleanup(subprocess.run, ["rm", "-rf", self.dir])
        self.run_id = run_id
        self.tracking = os.path.join(self.dir, "tracking.jsonl")
        self.outputs = os.path.join(self.dir, "outputs")
        with open(os.path.join(self.dir, "script.py"), "w") as f:
            f.write(textwrap.dedent(script))

    def run(self, online=True):
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR + os.pathsep + FALLBACK_DIR, MPLBACKEND="Agg")
        for key in ("AMLC_RUN_ID", "AMLC_TRACKING_FILE", "AMLC_OUTPUTS_DIR", "AMLC_EXPERIMENT"):
            env.pop(key, None)
        if online:
            env.update(AMLC_RUN_ID=self.run_id, AMLC_EXPERIMENT="exp", AMLC_TRACKING_FILE=self.tracking,
                       AMLC_OUTPUTS_DIR=self.outputs)
        return subprocess.run([sys.executable, "script.py"], cwd=self.dir, env=env,
                              capture_output=True, text=True, timeout=300)

    def records(self, kind=None):
        with open(self.tracking) as f:
            records = [json.loads(line) for line in f]
        return [r for r in records if kind is None or r["t"] == kind]

    def output(self, rel):
        return os.path.join(self.outputs, rel)


class TrackingApiTest(unittest.TestCase):
    def run_ok(self, script, online=True):
        run = ScriptRun(self, script)
        done = run.run(online)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return run, done

    def test_metrics_keep_step_and_timestamp_and_default_to_step_0(self):
        run, _ = self.run_ok("""
            import mlflow
            mlflow.log_metric("loss", 0.5, step=7, timestamp=1700000000123)
            mlflow.log_metric("loss", 0.25)
            mlflow.log_metrics({"a": 1, "b": 2.5}, step=3)
        """)
        points = [(r["name"], r["step"], r["value"]) for r in run.records("metric")]
        self.assertEqual(points, [("loss", 7, 0.5), ("loss", 0, 0.25), ("a", 3, 1), ("b", 3, 2.5)])
        self.assertEqual(run.records("metric")[0]["ts"], 1700000000123)

    def test_params_and_tags_are_recorded_as_text(self):
        run, _ = self.run_ok("""
            import mlflow
            mlflow.log_param("alpha", 0.5)
            mlflow.log_params({"kernel": "rbf", "C": 1})
            mlflow.set_tag("dataset", "diabetes")
            mlflow.set_tags({"stage": 2})
        """)
        self.assertEqual([(r["key"], r["value"]) for r in run.records("param")],
                         [("alpha", "0.5"), ("kernel", "rbf"), ("C", "1")])
        self.assertEqual([(r["key"], r["value"]) for r in run.records("tag")],
                         [("dataset", "diabetes"), ("stage", "2")])

    def test_start_run_attaches_to_the_amlc_run_and_nested_runs_are_child_runs(self):
        run, done = self.run_ok("""
            import mlflow
            with mlflow.start_run() as parent:
                print("parent", parent.info.run_id, mlflow.active_run().info.run_id)
                with mlflow.start_run(run_name="fold 1", nested=True) as child:
                    mlflow.log_metric("acc", 0.9)
                    print("child", child.info.run_id)
                try:
                    mlflow.start_run()
                except mlflow.MlflowException as error:
                    print("refused", "already active" in str(error))
            print("after", mlflow.active_run())
        """)
        self.assertIn("parent train-1 train-1", done.stdout)
        self.assertIn("child train-1.fold_1", done.stdout)
        self.assertIn("refused True", done.stdout)
        self.assertIn("after None", done.stdout)
        child = run.records("child")
        self.assertEqual([(c["run"], c["parent"], c["name"]) for c in child], [("train-1.fold_1", "train-1", "fold 1")])
        self.assertEqual(run.records("metric")[0]["run"], "train-1.fold_1")
        self.assertEqual([(s["run"], s["status"]) for s in run.records("status")], [("train-1.fold_1", "Completed")])

    def test_a_failing_nested_run_is_failed(self):
        run, _ = self.run_ok("""
            import mlflow
            with mlflow.start_run():
                try:
                    with mlflow.start_run(nested=True):
                        with mlflow.start_run(nested=True):
                            raise ValueError("boom")
                except ValueError:
                    pass
        """)
        self.assertEqual([(s["run"], s["status"]) for s in run.records("status")],
                         [("train-1.child-0.child-0", "Failed"), ("train-1.child-0", "Failed")])

    def test_artifacts_land_in_the_outputs_folder(self):
        run, _ = self.run_ok("""
            import os, mlflow
            os.makedirs("report/sub")
            open("report/a.txt", "w").write("A")
            open("report/sub/b.txt", "w").write("B")
            mlflow.log_artifact("report/a.txt")
            mlflow.log_artifact("report/a.txt", artifact_path="copies")
            mlflow.log_artifacts("report", artifact_path="all")
            mlflow.log_text("hello", "notes/hello.txt")
            mlflow.log_dict({"k": [1, 2]}, "config.json")
            mlflow.log_dict({"k": 1}, "config.yaml")
        """)
        for rel, text in [("a.txt", "A"), ("copies/a.txt", "A"), ("all/a.txt", "A"), ("all/sub/b.txt", "B"),
                          ("notes/hello.txt", "hello"), ("config.yaml", "k: 1\n")]:
            with open(run.output(rel)) as f:
                self.assertEqual(f.read(), text, rel)
        with open(run.output("config.json")) as f:
            self.assertEqual(json.load(f), {"k": [1, 2]})
        self.assertIn("outputs/all/sub/b.txt", [r["name"] for r in run.records("file")])

    def test_log_image_writes_a_png_of_the_array(self):
        run, _ = self.run_ok("""
            import numpy as np, mlflow
            image = np.zeros((2, 3, 3), dtype=np.uint8)
            image[1, 2] = [255, 128, 7]
            mlflow.log_image(image, "img.png")
            mlflow.log_image(np.ones((1, 1)), "grey.png")
        """)
        with open(run.output("img.png"), "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
        self.assertEqual((width, height, depth, colour), (3, 2, 8, 2))
        idat = data.index(b"IDAT")
        length = struct.unpack(">I", data[idat - 4:idat])[0]
        rows = zlib.decompress(data[idat + 4:idat + 4 + length])
        self.assertEqual(rows[1 + 3 * 3 + 1 + 2 * 3:], bytes([255, 128, 7]))
        with open(run.output("grey.png"), "rb") as f:
            self.assertEqual(f.read()[25], 0)  # colour type grey

    @unittest.skipUnless(_has("matplotlib"), "matplotlib is not installed")
    def test_log_figure_saves_a_matplotlib_figure(self):
        run, _ = self.run_ok("""
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt, mlflow
            fig = plt.figure()
            plt.plot([1, 2, 3])
            mlflow.log_figure(fig, "plots/line.png")
            mlflow.log_figure(fig, "plots/line.svg")
        """)
        with open(run.output("plots/line.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(run.output("plots/line.svg")) as f:
            self.assertIn("<svg", f.read())

    def test_outside_amlc_calls_print_and_the_script_still_runs(self):
        _, done = self.run_ok("""
            import mlflow
            mlflow.log_param("alpha", 1)
            mlflow.log_metric("loss", 0.1, step=2)
        """, online=False)
        self.assertIn("[amlc] param alpha = 1", done.stdout)
        self.assertIn("[amlc] loss = 0.1 (step 2)", done.stdout)


class RealMlflowTest(unittest.TestCase):
    def test_an_installed_mlflow_further_along_the_path_is_imported_instead(self):
        run = ScriptRun(self, """
            import mlflow, mlflow.sklearn
            print(mlflow.REAL, mlflow.sklearn.REAL_SKLEARN, mlflow.__file__.endswith("site/mlflow/__init__.py"))
        """)
        site = os.path.join(run.dir, "site", "mlflow")
        os.makedirs(site)
        with open(os.path.join(site, "__init__.py"), "w") as f:
            f.write("REAL = True\n")
        with open(os.path.join(site, "sklearn.py"), "w") as f:
            f.write("REAL_SKLEARN = True\n")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([PYTHON_DIR, FALLBACK_DIR, os.path.join(run.dir, "site")]))
        done = subprocess.run([sys.executable, "script.py"], cwd=run.dir, env=env, capture_output=True, text=True,
                              timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), ["True", "True", "True"])


@unittest.skipUnless(HAS_SKLEARN and HAS_PANDAS, "scikit-learn and pandas are not installed")
class ModelFormatTest(unittest.TestCase):
    def run_ok(self, script):
        run = ScriptRun(self, script)
        done = run.run()
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return run, done

    def test_save_model_writes_the_mlflow_folder_format(self):
        import yaml
        run, done = self.run_ok("""
            import mlflow.sklearn
            from sklearn.linear_model import LinearRegression
            mlflow.sklearn.save_model(LinearRegression().fit([[0], [1], [2]], [0, 2, 4]), "saved")
            print(round(mlflow.sklearn.load_model("saved").predict([[3]])[0], 6))
            print(round(mlflow.pyfunc.load_model("saved").predict([[4]])[0], 6))
        """)
        self.assertEqual(done.stdout.split(), ["6.0", "8.0"])
        folder = os.path.join(run.dir, "saved")
        self.assertEqual(sorted(os.listdir(folder)),
                         ["MLmodel", "conda.yaml", "model.pkl", "python_env.yaml", "requirements.txt"])
        with open(os.path.join(folder, "MLmodel")) as f:
            text = f.read()
        model = yaml.safe_load(text)
        self.assertEqual(sorted(model), ["flavors", "mlflow_version", "model_uuid", "utc_time_created"])
        self.assertEqual(list(model), sorted(model))  # keys sorted, as MLflow's yaml.safe_dump writes them
        pyfunc = model["flavors"]["python_function"]
        self.assertEqual(pyfunc["loader_module"], "mlflow.sklearn")
        self.assertEqual(pyfunc["model_path"], "model.pkl")
        self.assertEqual(pyfunc["predict_fn"], "predict")
        self.assertEqual(pyfunc["env"], {"conda": "conda.yaml", "virtualenv": "python_env.yaml"})
        sk = model["flavors"]["sklearn"]
        self.assertEqual(sorted(sk), ["code", "pickled_model", "serialization_format", "sklearn_version"])
        self.assertIn(sk["serialization_format"], ("pickle", "cloudpickle"))
        self.assertRegex(model["model_uuid"], "^[0-9a-f]{32}$")
        self.assertRegex(model["utc_time_created"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
        with open(os.path.join(folder, "model.pkl"), "rb") as f:
            self.assertEqual(type(pickle.load(f)).__name__, "LinearRegression")
        with open(os.path.join(folder, "python_env.yaml")) as f:
            env = yaml.safe_load(f)
        self.assertEqual(list(env), ["python", "build_dependencies", "dependencies"])
        self.assertEqual(env["dependencies"], ["-r requirements.txt"])
        with open(os.path.join(folder, "requirements.txt")) as f:
            requirements = f.read().split("\n")
        self.assertTrue(requirements[0].startswith("mlflow=="))
        self.assertTrue(any(r.startswith("scikit-learn==") for r in requirements))
        with open(os.path.join(folder, "conda.yaml")) as f:
            conda = yaml.safe_load(f)
        self.assertEqual(conda["name"], "mlflow-env")
        self.assertEqual(conda["dependencies"][-1]["pip"], requirements)

    def test_model_folder_matches_mlflow_2_9_writer_field_by_field(self):
        # What MLflow 2.9's mlflow.sklearn.save_model writes (mlflow/sklearn/__init__.py,
        # mlflow/models/model.py, mlflow/models/utils.py, mlflow/utils/environment.py),
        # here for a model saved with an input example and loaded back by pyfunc.
        import yaml
        run, done = self.run_ok("""
            import numpy as np, pandas as pd, mlflow.sklearn
            from sklearn.linear_model import LinearRegression
            frame = pd.DataFrame({"age": [0.1, 0.2], "bmi": [0.3, None]})
            model = LinearRegression().fit([[0, 1], [1, 0], [2, 2]], [0, 2, 4])
            mlflow.sklearn.save_model(model, "framed", input_example=frame.fillna(0.5),
                                      serialization_format="pickle")
            mlflow.sklearn.save_model(model, "array", input_example=np.array([[1.0, 2.0]]))
            print(round(float(mlflow.pyfunc.load_model("framed").predict(frame.fillna(0.5))[0]), 6))
        """)
        framed = os.path.join(run.dir, "framed")
        self.assertEqual(sorted(os.listdir(framed)), ["MLmodel", "conda.yaml", "input_example.json",
                                                      "model.pkl", "python_env.yaml", "requirements.txt"])
        with open(os.path.join(framed, "MLmodel")) as f:
            model = yaml.safe_load(f)
        self.assertEqual(sorted(model), ["flavors", "mlflow_version", "model_uuid", "saved_input_example_info",
                                         "signature", "utc_time_created"])
        self.assertEqual(model["mlflow_version"], "2.9.2")
        self.assertEqual(model["saved_input_example_info"],
                         {"artifact_path": "input_example.json", "pandas_orient": "split", "type": "dataframe"})
        self.assertEqual(sorted(model["signature"]), ["inputs", "outputs", "params"])
        self.assertEqual(json.loads(model["signature"]["inputs"]),
                         [{"type": "double", "name": "age", "required": True},
                          {"type": "double", "name": "bmi", "required": True}])
        self.assertIsNone(model["signature"]["params"])
        self.assertEqual(model["flavors"]["python_function"],
                         {"env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                          "loader_module": "mlflow.sklearn", "model_path": "model.pkl", "predict_fn": "predict",
                          "python_version": platform.python_version()})
        import sklearn
        self.assertEqual(model["flavors"]["sklearn"],
                         {"code": None, "pickled_model": "model.pkl", "serialization_format": "pickle",
                          "sklearn_version": sklearn.__version__})
        with open(os.path.join(framed, "input_example.json")) as f:
            self.assertEqual(json.load(f), {"columns": ["age", "bmi"], "data": [[0.1, 0.3], [0.2, 0.5]]})
        with open(os.path.join(framed, "requirements.txt")) as f:
            requirements = f.read()
        self.assertFalse(requirements.endswith("\n"))  # "\n".join, as MLflow writes it
        self.assertEqual(requirements.split("\n"), ["mlflow==2.9.2", "scikit-learn==" + sklearn.__version__])
        with open(os.path.join(framed, "conda.yaml")) as f:
            conda = yaml.safe_load(f)
        self.assertEqual(sorted(conda), ["channels", "dependencies", "name"])
        self.assertEqual(conda["channels"], ["conda-forge"])
        self.assertEqual(conda["dependencies"][0], "python=" + platform.python_version())
        self.assertRegex(conda["dependencies"][1], r"^pip(<=[0-9.]+)?$")
        self.assertEqual(conda["dependencies"][2], {"pip": requirements.split("\n")})
        with open(os.path.join(framed, "python_env.yaml")) as f:
            env = yaml.safe_load(f)
        self.assertEqual(env["python"], platform.python_version())
        self.assertEqual([d.split("==")[0] for d in env["build_dependencies"]], ["pip", "setuptools", "wheel"])
        array = os.path.join(run.dir, "array")
        with open(os.path.join(array, "MLmodel")) as f:
            self.assertEqual(yaml.safe_load(f)["saved_input_example_info"],
                             {"artifact_path": "input_example.json", "format": "tf-serving", "type": "ndarray"})
        with open(os.path.join(array, "input_example.json")) as f:
            self.assertEqual(json.load(f), {"inputs": [[1.0, 2.0]]})
        with open(os.path.join(array, "requirements.txt")) as f:
            names = [line.split("==")[0] for line in f.read().split("\n")]
        self.assertEqual(names[0], "mlflow")
        self.assertEqual(names[1:], sorted(names[1:]))  # mlflow first, the rest by name

    def _real_mlflow_folder(self, mlmodel):
        """A model folder with an MLmodel MLflow wrote and a model pickled here."""
        from sklearn.linear_model import LinearRegression
        folder = tempfile.mkdtemp(prefix="amlc-real-mlmodel-")
        self.addCleanup(subprocess.run, ["rm", "-rf", folder])
        with open(os.path.join(folder, "MLmodel"), "w") as f:
            f.write(mlmodel)
        with open(os.path.join(folder, "model.pkl"), "wb") as f:
            pickle.dump(LinearRegression().fit([[0, 0, 0, 0], [1, 1, 1, 1], [2, 0, 1, 3]], [0, 4, 6]), f)
        return folder

    def test_folders_real_mlflow_wrote_load_with_load_model_and_pyfunc(self):
        for mlmodel in (MLFLOW_2_4_MLMODEL, AZUREML_EXAMPLE_MLMODEL):
            folder = self._real_mlflow_folder(mlmodel)
            run, done = self.run_ok("""
                import sys, mlflow, mlflow.sklearn, pandas as pd
                print(type(mlflow.sklearn.load_model(sys.argv[0] and %r)).__name__)
                model = mlflow.pyfunc.load_model(%r)
                frame = pd.DataFrame({"petal_width": [1.0], "sepal_length": [1.0], "sepal_width": [1.0],
                                      "petal_length": [1.0]})
                print(round(float(model.predict(frame.values if model.metadata.signature is None else frame)[0]), 6))
                print(model.metadata.flavors["python_function"]["loader_module"])
            """ % (folder, folder))
            lines = done.stdout.split()
            self.assertEqual(lines[0], "LinearRegression")
            self.assertEqual(lines[2], "mlflow.sklearn")

    def test_a_signature_orders_the_columns_given_to_predict(self):
        folder = self._real_mlflow_folder(AZUREML_EXAMPLE_MLMODEL)
        _, done = self.run_ok("""
            import mlflow, pandas as pd
            model = mlflow.pyfunc.load_model(%r)
            in_order = pd.DataFrame([[2.0, 0.0, 1.0, 3.0]],
                                    columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])
            shuffled = in_order[["petal_width", "sepal_length", "petal_length", "sepal_width"]]
            print(model.predict(in_order)[0] == model.predict(shuffled)[0])
        """ % (folder,))
        self.assertEqual(done.stdout.strip(), "True")

    def test_autolog_records_params_training_metrics_tags_and_the_model(self):
        run, _ = self.run_ok("""
            import mlflow
            from sklearn.datasets import load_iris
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            from sklearn.svm import SVC
            mlflow.autolog()
            X, y = load_iris(return_X_y=True, as_frame=True)
            make_pipeline(StandardScaler(), SVC(C=0.8, probability=True)).fit(X, y)
        """)
        params = {r["key"]: r["value"] for r in run.records("param")}
        self.assertEqual(params["svc__C"], "0.8")
        self.assertEqual(params["svc__kernel"], "rbf")
        metrics = {r["name"]: r["value"] for r in run.records("metric")}
        self.assertEqual(sorted(metrics), sorted([
            "training_score", "training_accuracy_score", "training_precision_score", "training_recall_score",
            "training_f1_score", "training_log_loss", "training_roc_auc"]))
        self.assertGreater(metrics["training_accuracy_score"], 0.9)
        tags = {r["key"]: r["value"] for r in run.records("tag")}
        self.assertEqual(tags["estimator_name"], "Pipeline")
        self.assertEqual(tags["estimator_class"], "sklearn.pipeline.Pipeline")
        history = json.loads(tags["mlflow.log-model.history"])
        self.assertEqual(history[0]["artifact_path"], "model")
        self.assertEqual(history[0]["run_id"], "train-1")
        self.assertTrue(os.path.isfile(run.output("model/MLmodel")))
        self.assertTrue(os.path.isfile(run.output("model/model.pkl")))
        # A fit inside the pipeline logs nothing more: one model, one estimator tag.
        self.assertEqual(len([r for r in run.records("tag") if r["key"] == "estimator_name"]), 1)

    def test_log_model_returns_a_runs_uri_that_loads_back(self):
        run, done = self.run_ok("""
            import mlflow, mlflow.sklearn
            from sklearn.linear_model import Ridge
            info = mlflow.sklearn.log_model(Ridge(alpha=0.5).fit([[0], [1]], [0, 1]), "ridge")
            print(info.model_uri)
            print(type(mlflow.sklearn.load_model(info.model_uri)).__name__)
        """)
        self.assertEqual(done.stdout.split(), ["runs:/train-1/ridge", "Ridge"])
        import yaml
        with open(run.output("ridge/MLmodel")) as f:
            model = yaml.safe_load(f)
        self.assertEqual((model["artifact_path"], model["run_id"]), ("ridge", "train-1"))


if __name__ == "__main__":
    unittest.main()

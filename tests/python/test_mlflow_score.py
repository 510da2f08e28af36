"""Tests of amlc/nocode/mlflow_score.py, the scoring script of no-code mlflow_model deployments.

Models are written the way MLflow's storage format documents them (an MLmodel
file beside model.pkl), with Debian's scikit-learn.

Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""

import importlib.util
import json
import os
import pickle
import sys
import tempfile
import textwrap
import unittest

PYTHON_DIR = os.path.normpath(os.path.join(os.path.realpath(__file__), "..", "..", "..", "python"))
SCRIPT = os.path.join(PYTHON_DIR, "amlc", "nocode", "mlflow_score.py")

try:
    from sklearn.linear_model import LinearRegression
except ImportError:  # the Debian package python3-sklearn is in scripts/install-deps.sh
    LinearRegression = None

MLMODEL = textwrap.dedent("""\
    artifact_path: model
    flavors:
      python_function:
        env:
          conda: conda.yaml
          virtualenv: python_env.yaml
        loader_module: mlflow.sklearn
        model_path: model.pkl
        predict_fn: predict
        python_version: 3.11.2
      sklearn:
        code: null
        pickled_model: model.pkl
        serialization_format: cloudpickle
        sklearn_version: 1.2.1
    mlflow_version: 2.9.2
    model_uuid: 0d3c3d0ab3a54f6e8a1c6c3f1c0f2e11
    utc_time_created: '2026-12-05 05:00:00.000000'
    """)


def load_script():
    spec = importlib.util.spec_from_file_location("mlflow_score_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@unittest.skipIf(LinearRegression is None, "needs python3-sklearn")
class MlflowScoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        # y = 2*age + 3*bmi, so predictions are exact.
        model = LinearRegression().fit([[1, 0], [0, 1], [1, 1], [2, 1]], [2, 3, 5, 7])
        self.folder = os.path.join(self.tmp.name, "diabetes-model")
        os.makedirs(self.folder)
        with open(os.path.join(self.folder, "MLmodel"), "w") as f:
            f.write(MLMODEL)
        with open(os.path.join(self.folder, "model.pkl"), "wb") as f:
            pickle.dump(model, f)
        self.script = load_script()

    def serve(self, model_dir, body):
        os.environ["AZUREML_MODEL_DIR"] = model_dir
        self.script.init()
        return self.script.run(json.dumps(body))

    def assertPredicts(self, predictions, expected):
        self.assertEqual(len(predictions), len(expected))
        for got, want in zip(predictions, expected):
            self.assertAlmostEqual(got, want, places=6)

    def test_every_request_shape_azure_and_mlflow_accept(self):
        columns = ["age", "bmi"]
        for body in ({"input_data": {"columns": columns, "index": [0, 1], "data": [[1, 1], [3, 2]]}},
                     {"input_data": [[1, 1], [3, 2]]},
                     {"dataframe_split": {"columns": columns, "data": [[1, 1], [3, 2]]}},
                     {"dataframe_records": [{"age": 1, "bmi": 1}, {"age": 3, "bmi": 2}]},
                     {"instances": [[1, 1], [3, 2]]},
                     {"inputs": [[1, 1], [3, 2]]}):
            with self.subTest(body=list(body)):
                self.assertPredicts(self.serve(self.folder, body), [5.0, 12.0])

    def test_the_model_folder_may_be_one_level_below_the_model_dir(self):
        self.assertPredicts(self.serve(self.tmp.name, {"input_data": [[2, 0]]}), [4.0])

    def test_a_python_function_flavor_without_sklearn_section_loads_too(self):
        with open(os.path.join(self.folder, "MLmodel"), "w") as f:
            f.write("flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n")
        self.assertPredicts(self.serve(self.folder, {"inputs": [[0, 2]]}), [6.0])

    def test_unknown_flavors_and_bodies_are_refused_with_what_to_send(self):
        with self.assertRaisesRegex(ValueError, "send {\"input_data\""):
            self.serve(self.folder, {"rows": [[1, 1]]})
        with open(os.path.join(self.folder, "MLmodel"), "w") as f:
            f.write("flavors:\n  pytorch:\n    model_data: data\n")
        with self.assertRaisesRegex(ValueError, "amlc serves sklearn and python_function"):
            self.serve(self.folder, {"inputs": [[1, 1]]})

    def test_the_simple_yaml_reader_reads_mlmodel_files(self):
        parsed = self.script._parse_simple_yaml(MLMODEL)
        self.assertEqual(parsed["flavors"]["sklearn"]["pickled_model"], "model.pkl")
        self.assertEqual(parsed["flavors"]["python_function"]["loader_module"], "mlflow.sklearn")


if __name__ == "__main__":
    unittest.main()

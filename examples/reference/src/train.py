"""Trains a logistic-regression classifier on iris measurements and logs its
accuracy (the metric the sweep optimizes)."""
import argparse
import csv
import os
import pickle

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def load(path):
    if os.path.isdir(path):  # a folder input: the CSV inside it
        path = os.path.join(path, "iris.csv")
    features, labels = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            features.append([float(row[k]) for k in FEATURES])
            labels.append(row["species"])
    return features, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--solver", default="lbfgs")
    parser.add_argument("--model-dir", default="outputs")
    args = parser.parse_args()

    x, y = load(args.data)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y)
    model = LogisticRegression(C=args.C, solver=args.solver, max_iter=500).fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    print(f"accuracy={accuracy:.4f}")
    try:  # amlc's run-logging module, present when amlc runs the script
        from amlc import run
        run.log("accuracy", accuracy)
    except ImportError:
        pass
    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.pkl"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()

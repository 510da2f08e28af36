"""Trains a logistic-regression classifier on the iris data set."""
import argparse
import csv
import os
import pickle

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def load(path):
    features, labels = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            features.append([float(row[k]) for k in
                             ("sepal_length", "sepal_width", "petal_length", "petal_width")])
            labels.append(row["species"])
    return features, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model-dir", required=True)
    args = parser.parse_args()

    x, y = load(args.data)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)
    model = LogisticRegression(C=args.C, max_iter=500).fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    print(f"accuracy={accuracy:.4f}")
    try:  # amlc's run-logging module, present when amlc runs the script
        from amlc import run
        run.log("accuracy", accuracy)
        run.log("C", args.C)
    except ImportError:
        pass
    os.makedirs(args.model_dir, exist_ok=True)
    with open(os.path.join(args.model_dir, "model.pkl"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()

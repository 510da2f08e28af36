"""Logs N points of one metric (a noisy decaying curve), for the dashboard bench."""
import argparse
import math

from amlc import run

parser = argparse.ArgumentParser()
parser.add_argument("--points", type=int, required=True)
args = parser.parse_args()
for step in range(args.points):
    run.log("loss", 0.1 + math.exp(-step / 20000.0) + 0.01 * math.sin(step), step=step)
print(f"logged {args.points} points")

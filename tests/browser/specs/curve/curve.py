"""A toy training loop that logs a loss curve, for the dashboard's tests:
loss falls as lr * exp(-epoch / 10) plus a floor, one point per epoch."""
import argparse
import math

from amlc import run

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()
for epoch in range(args.epochs):
    run.log("loss", 0.1 + args.lr * math.exp(-epoch / 10.0), step=epoch)
run.log("final_loss", 0.1 + args.lr * math.exp(-(args.epochs - 1) / 10.0))
print(f"trained {args.epochs} epochs with lr={args.lr}")

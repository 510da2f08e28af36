"""The trivial scoring script of the scoring benchmark: run() echoes the JSON it gets."""
import json


def init():
    pass


def run(raw_data):
    return {"echo": json.loads(raw_data)}

#!/usr/bin/python3
"""Checks a stream of `amlc apply --json` events against cli/apply_events.schema.json.

Usage: check_apply_events.py SCHEMA EVENTS_FILE
Every line must be one JSON object valid against the schema; the first event
is `plan` or `error`, the last `summary`, and every action_finished follows
its action_started. Prints each problem and exits 1 when there is any.
"""
import json
import sys

import jsonschema


def main(schema_path, events_path):
    with open(schema_path) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    problems = []
    events = []
    with open(events_path) as f:
        for number, line in enumerate(f, 1):
            try:
                event = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"line {number}: not JSON ({error}): {line[:80]!r}")
                continue
            for error in validator.iter_errors(event):
                problems.append(f"line {number}: {error.message}")
            events.append(event)
    types = [e.get("type") for e in events]
    if not types or types[0] not in ("plan", "error"):
        problems.append(f"the first event is {types[:1]}, not plan or error")
    if not types or types[-1] != "summary" or types.count("summary") != 1:
        problems.append("the stream does not end with its one summary")
    started = set()
    for e in events:
        if e.get("type") == "action_started":
            started.add(e["index"])
        if e.get("type") == "action_finished" and e["outcome"] != "skipped" and e["index"] not in started:
            problems.append(f"action {e['index']} finished without starting")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

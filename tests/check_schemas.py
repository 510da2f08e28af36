#!/usr/bin/env python3
"""Validates every YAML spec under examples/ against specs/*.schema.json with a
real JSON Schema validator, as an editor's YAML language server would: the
schemas the compiler embeds must accept the specs the compiler accepts."""
import glob
import json
import os
import sys

import jsonschema
import yaml

root = sys.argv[1] if len(sys.argv) > 1 else "."
specs_dir = os.path.join(root, "specs")
schemas = {}
by_name = {}
for path in glob.glob(os.path.join(specs_dir, "*.schema.json")):
    with open(path) as f:
        schema = json.load(f)
    name = os.path.basename(path)
    schemas[name] = schema
    by_name[name[: -len(".schema.json")].lower()] = name
    for azure in schema.get("x-amlc-azure-schemas", []):
        by_name[azure.lower()] = name

store = {name: schema for name, schema in schemas.items()}
checked, failures = 0, 0
for path in sorted(glob.glob(os.path.join(root, "examples", "**", "*.y*ml"), recursive=True)):
    with open(path) as f:
        documents = list(yaml.safe_load_all(f))
    for document in documents:
        if not isinstance(document, dict) or "$schema" not in document:
            continue
        stem = os.path.basename(document["$schema"]).split(".")[0].lower()
        name = by_name.get(stem)
        if name is None:
            print(f"{path}: no schema for {document['$schema']}")
            failures += 1
            continue
        resolver = jsonschema.RefResolver(base_uri=f"file://{specs_dir}/{name}", referrer=schemas[name],
                                          store={f"file://{specs_dir}/{k}": v for k, v in store.items()})
        validator = jsonschema.Draft202012Validator(schemas[name], resolver=resolver)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in errors:
            print(f"{path}: {'/'.join(map(str, error.path))}: {error.message}")
        failures += bool(errors)
        checked += 1

print(f"{checked} specs checked against specs/*.schema.json, {failures} failed")
sys.exit(1 if failures or checked == 0 else 0)

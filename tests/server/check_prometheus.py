#!/usr/bin/python3
"""Reads Prometheus text on stdin with prometheus_client's parser and prints
each sample as JSON lines {"name", "labels", "value"}; exits 1 when the text
does not parse (a family without TYPE, a bad label, a malformed value)."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    for family in text_string_to_metric_families(sys.stdin.read()):
        for sample in family.samples:
            print(json.dumps({"family": family.name, "type": family.type, "name": sample.name,
                              "labels": sample.labels, "value": sample.value}))
except Exception as error:  # the parser raises ValueError and others on bad input
    print("does not parse: %s" % error, file=sys.stderr)
    sys.exit(1)

"""A stand-in for the inference-schema package (used when it is not installed)."""

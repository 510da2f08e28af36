"""@input_schema and @output_schema, as inference-schema's.

The decorated run() is called with the request's JSON fields as keyword
arguments (Azure ML's inference server does so for decorated scripts), each
converted by its parameter type; the samples also describe the service in
GET /swagger.json.
"""

import functools


def _schema_of(func):
    while hasattr(func, "__wrapped__") and not hasattr(func, "__amlc_schema__"):
        func = func.__wrapped__
    return getattr(func, "__amlc_schema__", None)


def _ensure(func):
    schema = getattr(func, "__amlc_schema__", None)
    if schema is None:
        inner = _schema_of(func)
        schema = {"inputs": dict(inner["inputs"]), "output": inner["output"]} if inner else {"inputs": {}, "output": None}
    return schema


def input_schema(param_name, param_type, convert_to_provided_type=True, optional=False):
    def decorator(func):
        schema = _ensure(func)
        schema["inputs"] = {param_name: param_type, **schema["inputs"]}

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if convert_to_provided_type and param_name in kwargs:
                kwargs[param_name] = param_type.deserialize_input(kwargs[param_name])
            return func(*args, **kwargs)

        wrapper.__amlc_schema__ = schema
        return wrapper

    return decorator


def output_schema(output_type):
    def decorator(func):
        schema = _ensure(func)
        schema["output"] = output_type

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return func(*args, **kwargs)

        wrapper.__amlc_schema__ = schema
        return wrapper

    return decorator


def get_input_schema(func):
    schema = _schema_of(func)
    if not schema:
        return {}
    return {"type": "object", "properties": {name: t.input_to_swagger() for name, t in schema["inputs"].items()}}


def get_output_schema(func):
    schema = _schema_of(func)
    return schema["output"].input_to_swagger() if schema and schema["output"] is not None else {}

"""The base of the parameter types: a sample, its swagger description, input conversion."""


def swagger_of(value):
    """A swagger (JSON schema) description of a sample value."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, (list, tuple)):
        value = tolist()
    if isinstance(value, bool):
        return {"type": "boolean", "example": value}
    if isinstance(value, int):
        return {"type": "integer", "format": "int64", "example": value}
    if isinstance(value, float):
        return {"type": "number", "format": "double", "example": value}
    if isinstance(value, str):
        return {"type": "string", "example": value}
    if isinstance(value, dict):
        return {"type": "object", "required": list(value),
                "properties": {k: swagger_of(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        items = swagger_of(value[0]) if value else {}
        items.pop("example", None)
        return {"type": "array", "items": items, "example": list(value)}
    return {"type": "object"}


class AbstractParameterType:
    def __init__(self, sample_input, enforce_column_type=True, enforce_shape=True, apply_column_names=True,
                 orient="records"):
        self.sample_input = sample_input
        self.orient = orient

    def input_to_swagger(self):
        return swagger_of(self.sample_input)

    def deserialize_input(self, input_data):
        return input_data

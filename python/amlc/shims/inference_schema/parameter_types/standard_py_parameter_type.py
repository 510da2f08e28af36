from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType


class StandardPythonParameterType(AbstractParameterType):
    """A plain Python value (number, str, list, dict), given to run() as it arrives."""

from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType, swagger_of


class NumpyParameterType(AbstractParameterType):
    """A numpy array: the request's nested lists become one, of the sample's dtype."""

    def input_to_swagger(self):
        return swagger_of(self.sample_input.tolist())

    def deserialize_input(self, input_data):
        import numpy
        return numpy.array(input_data, dtype=self.sample_input.dtype)

from inference_schema.parameter_types.abstract_parameter_type import AbstractParameterType, swagger_of


class PandasParameterType(AbstractParameterType):
    """A pandas DataFrame: the request's records (orient="records") become one, with the sample's columns."""

    def input_to_swagger(self):
        return swagger_of(self.sample_input.to_dict(orient="records"))

    def deserialize_input(self, input_data):
        import pandas
        frame = pandas.DataFrame(input_data)
        columns = [c for c in self.sample_input.columns if c in frame.columns]
        return frame[columns] if columns else frame

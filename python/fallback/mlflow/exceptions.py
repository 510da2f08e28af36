"""MLflow's exception type, so ``except MlflowException`` in a script works."""


class MlflowException(Exception):
    """An error of the MLflow API (bad argument, unknown URI, missing model)."""

    def __init__(self, message, error_code="INTERNAL_ERROR"):
        super().__init__(message)
        self.message = str(message)
        self.error_code = error_code

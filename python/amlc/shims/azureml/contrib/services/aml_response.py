"""A stand-in for azureml.contrib.services.aml_response (used when it is not installed)."""

import json


class AMLResponse:
    """What a @rawhttp run() may return: a body, a status, headers.

    ``json_str=True`` sends a str body as JSON (``application/json``).
    """

    def __init__(self, response=None, status=None, headers=None, mimetype=None, content_type=None,
                 json_str=False):
        if isinstance(response, (dict, list)):
            response, json_str = json.dumps(response), True
        self.response = response if response is not None else b""
        self.status_code = int(status) if status is not None else 200
        self.headers = dict(headers or {})
        if content_type is None:
            content_type = mimetype or ("application/json" if json_str else "text/html; charset=utf-8")
        self.content_type = content_type

    def get_data(self):
        if isinstance(self.response, (bytes, bytearray)):
            return bytes(self.response)
        return str(self.response).encode("utf-8")

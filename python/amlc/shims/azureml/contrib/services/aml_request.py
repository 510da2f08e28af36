"""A stand-in for azureml.contrib.services.aml_request (used when it is not installed).

``@rawhttp`` marks ``run(request)`` as taking the whole HTTP request, an
``AMLRequest`` with the attributes scripts use from Werkzeug's ``Request``.
"""

import json
import urllib.parse


class _Headers(dict):
    """Case-insensitive header names, as Werkzeug's."""

    def __init__(self, pairs=()):
        super().__init__()
        for key, value in dict(pairs).items():
            self[key] = value

    def __setitem__(self, key, value):
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class _Args(dict):
    """The query parameters: ``get`` gives the first value, ``getlist`` all of them."""

    def __init__(self, query):
        super().__init__()
        self._lists = urllib.parse.parse_qs(query, keep_blank_values=True)
        for key, values in self._lists.items():
            dict.__setitem__(self, key, values[0])

    def getlist(self, key):
        return list(self._lists.get(key, []))


class AMLRequest:
    def __init__(self, method, path, query="", headers=None, body=b""):
        self.method = method
        self.path = path
        self.query_string = query.encode("utf-8")
        self.full_path = path + "?" + query
        self.args = _Args(query)
        self.headers = _Headers(headers or {})
        self.content_type = self.headers.get("Content-Type")
        self.data = body

    def get_data(self, cache=True, as_text=False, parse_form_data=False):
        return self.data.decode("utf-8", "replace") if as_text else self.data

    def get_json(self, force=False, silent=False, cache=True):
        try:
            return json.loads(self.data.decode("utf-8"))
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json(silent=True)


def rawhttp(run):
    """Marks run() as taking the AMLRequest itself."""
    run.__amlc_rawhttp__ = True
    return run

#!/usr/bin/python3
"""Serves the files of a folder over HTTP with validators (tests only).

Job inputs given by URL are fetched once and revalidated; Python's own
http.server sends Last-Modified but no ETag, so this one sends both and
answers If-None-Match and If-Modified-Since with 304 the way web servers and
blob stores do. Every request is appended to the log file as
"METHOD PATH STATUS" for the tests' assertions. Listens on 127.0.0.1 on a
port the kernel picks and prints that port on a line of its own once it
accepts connections.

    file_server.py FOLDER LOG_FILE
"""

import email.utils
import hashlib
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(sys.argv[1], self.path.split("?")[0].lstrip("/"))
        if not os.path.isfile(path):
            return self.answer(404, b"not found\n", {})
        with open(path, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        modified = email.utils.formatdate(int(os.path.getmtime(path)), usegmt=True)
        validators = {"ETag": etag, "Last-Modified": modified}
        if self.headers.get("If-None-Match") == etag:
            return self.answer(304, b"", validators)
        self.answer(200, body, validators)

    def answer(self, status, body, headers):
        with open(sys.argv[2], "a") as log:
            log.write("GET %s %d\n" % (self.path, status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

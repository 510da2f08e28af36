#!/usr/bin/python3
"""A stand-in for a GitHub-compatible forge's issue-comment API (tests only).

The reconciler posts pull-request previews as comments. A real forge to test
against (Gitea, Forgejo) is not packaged for Debian 12, and tests must not
reach github.com, so this small in-memory server speaks exactly the three
endpoints amlc's forge client uses, the way GitHub does:

  GET   /repos/OWNER/NAME/issues/N/comments?page=P&per_page=K  (K at most 100, default 30)
  POST  /repos/OWNER/NAME/issues/N/comments      {"body": ...}  -> 201 and the comment
  PATCH /repos/OWNER/NAME/issues/comments/ID     {"body": ...}  -> 200 and the comment

Every request needs "Authorization: token TOKEN" (401 {"message": "Bad
credentials"} otherwise). GET /_comments (no token) lists every comment of
every pull request, for the tests' assertions. An optional path prefix
(--prefix /api/v1) stands in for Gitea's API root. Listens on 127.0.0.1 on a
port the kernel picks and prints that port on a line of its own once it
accepts connections.
"""

import argparse
import http.server
import json
import re
import sys
import threading
import urllib.parse

COMMENTS = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
COMMENT = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


class Store:
    """Comments in creation order, as the forge lists them (oldest first)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.comments = []
        self.next_id = 1001  # ids unlike list positions, so a test cannot mix them up

    def add(self, repository, number, body, user):
        with self.lock:
            comment = {"id": self.next_id, "repository": repository, "issue": number,
                       "body": body, "user": {"login": user}}
            self.next_id += 1
            self.comments.append(comment)
            return dict(comment)

    def page(self, repository, number, page, per_page):
        with self.lock:
            mine = [c for c in self.comments
                    if c["repository"] == repository and c["issue"] == number]
            start = (page - 1) * per_page
            return [dict(c) for c in mine[start:start + per_page]]

    def update(self, repository, comment_id, body):
        with self.lock:
            for comment in self.comments:
                if comment["id"] == comment_id and comment["repository"] == repository:
                    comment["body"] = body
                    return dict(comment)
            return None

    def everything(self):
        with self.lock:
            return [dict(c) for c in self.comments]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real forges serve
    server_version = "fake-forge"

    def log_message(self, fmt, *args):
        pass  # quiet: the tests read stdout for the port only

    def reply(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            document = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def authorized(self):
        if self.headers.get("Authorization") == "token " + self.server.token:
            return True
        self.reply(401, {"message": "Bad credentials"})
        return False

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path == "/_comments":
            return path, urllib.parse.parse_qs(url.query)
        if not path.startswith(self.server.prefix + "/"):
            return None, {}
        return path[len(self.server.prefix):], urllib.parse.parse_qs(url.query)

    def do_GET(self):
        path, query = self.route()
        if path == "/_comments":
            return self.reply(200, self.server.store.everything())
        if not self.authorized():
            return None
        match = COMMENTS.match(path or "")
        if not match:
            return self.reply(404, {"message": "Not Found"})
        try:
            page = int(query.get("page", ["1"])[0])
            per_page = min(int(query.get("per_page", [str(DEFAULT_PER_PAGE)])[0]), MAX_PER_PAGE)
        except ValueError:
            return self.reply(400, {"message": "page and per_page must be numbers"})
        if page < 1 or per_page < 1:
            return self.reply(400, {"message": "page and per_page must be positive"})
        repository = match.group(1) + "/" + match.group(2)
        self.reply(200, self.server.store.page(repository, int(match.group(3)), page, per_page))

    def do_POST(self):
        path, _ = self.route()
        if not self.authorized():
            return None
        match = COMMENTS.match(path or "")
        if not match:
            return self.reply(404, {"message": "Not Found"})
        document = self.read_json()
        if document is None or not isinstance(document.get("body"), str):
            return self.reply(422, {"message": "Validation Failed: body is required"})
        repository = match.group(1) + "/" + match.group(2)
        comment = self.server.store.add(repository, int(match.group(3)), document["body"],
                                        self.server.user)
        self.reply(201, comment)

    def do_PATCH(self):
        path, _ = self.route()
        if not self.authorized():
            return None
        match = COMMENT.match(path or "")
        if not match:
            return self.reply(404, {"message": "Not Found"})
        document = self.read_json()
        if document is None or not isinstance(document.get("body"), str):
            return self.reply(422, {"message": "Validation Failed: body is required"})
        repository = match.group(1) + "/" + match.group(2)
        comment = self.server.store.update(repository, int(match.group(3)), document["body"])
        if comment is None:
            return self.reply(404, {"message": "Not Found"})
        self.reply(200, comment)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True, help="the one token the forge accepts")
    parser.add_argument("--user", default="amlc-bot", help="the login comments are posted as")
    parser.add_argument("--prefix", default="", help="API root path, e.g. /api/v1 as Gitea")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.token = args.token
    server.user = args.user
    server.prefix = args.prefix.rstrip("/")
    server.store = Store()
    # The socket listens already (bound and listening in the constructor), so
    # a client that reads this line can connect at once.
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

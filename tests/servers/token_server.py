#!/usr/bin/python3
"""A bearer token realm for docker-registry's `auth: token` (tests only).

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with HTTP basic
credentials answers {"token": JWT, "access_token": JWT, "expires_in": 300}: an RS256
JWT whose x5c header carries the signing certificate (the registry's
rootcertbundle) and whose access claim grants every requested scope. Wrong or
missing credentials get 401. Listens on 127.0.0.1 on a port the kernel picks and
writes "127.0.0.1:PORT" to --port-file once it accepts connections.
"""

import argparse
import base64
import http.server
import json
import os
import secrets
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()

    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(args.cert, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    expected = "Basic " + base64.b64encode(f"{args.user}:{args.password}".encode()).decode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def reply(self, status, body, extra=None):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/token":
                return self.reply(404, {"error": "not found"})
            if self.headers.get("Authorization") != expected:
                return self.reply(401, {"error": "bad or missing credentials"},
                                  {"WWW-Authenticate": 'Basic realm="amlc-test-token"'})
            query = urllib.parse.parse_qs(url.query)
            if query.get("service", [""])[0] != args.service:
                return self.reply(400, {"error": "unknown service"})
            access = []
            for scope in query.get("scope", []):
                for one in scope.split(" "):
                    kind, _, rest = one.partition(":")
                    name, _, actions = rest.rpartition(":")
                    if kind and name and actions:
                        access.append({"type": kind, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            claims = {"iss": args.issuer, "sub": args.user, "aud": args.service,
                      "iat": now, "nbf": now - 10, "exp": now + 300,
                      "jti": secrets.token_hex(16), "access": access}
            token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": x5c})
            self.reply(200, {"token": token, "access_token": token, "expires_in": 300})

        def log_message(self, fmt, *log_args):
            print("%s %s" % (self.address_string(), fmt % log_args), flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    temp = args.port_file + ".tmp"
    with open(temp, "w") as f:
        f.write("127.0.0.1:%d\n" % server.server_address[1])
    os.rename(temp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Slow-client load against an amlc HTTP front (endpoint host, replica,
workspace server, reconciler).

Opens N slow sockets (half of them dribble a request head, one header line
every few seconds; the other half send a whole head and then dribble the
body, one byte every few seconds; --endless-lines more of them dribble a
request line that never ends), reopens any the server closes, and while
they are open sends normal requests (scoring requests by default; --method
GET --path /api/v1/runs for an API) and times them. Prints the
normal requests' p50/p99/max latency and their failures (a status other
than --expect, a timeout, a reset), as text or, with --json, one JSON line.

    python3 bench/slow_clients.py --port 8080 --slow 1000 --requests 500 \\
        --header 'Authorization: Bearer KEY'
    python3 bench/slow_clients.py --port 8443 --slow 1000 --endless-lines 10 \\
        --method GET --path /api/v1/runs --header 'Authorization: Bearer amlc_...'

Only loopback targets (127.0.0.0/8, localhost, ::1) are accepted. Every
loop is bounded: the run stops after --requests normal requests or
--max-seconds, whichever comes first.
"""
import argparse
import asyncio
import ipaddress
import json
import resource
import sys
import time


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slow", type=int, default=1000, help="slow sockets kept open")
    parser.add_argument("--slow-body-share", type=float, default=0.5,
                        help="share of the slow sockets that dribble a body rather than a head")
    parser.add_argument("--endless-lines", type=int, default=0,
                        help="more slow sockets, each dribbling a request line that never ends")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between a slow socket's writes")
    parser.add_argument("--requests", type=int, default=500, help="normal requests to send")
    parser.add_argument("--concurrency", type=int, default=4, help="normal requests in flight at once")
    parser.add_argument("--method", default="POST", help="of the normal requests; GET sends no body")
    parser.add_argument("--path", default="/score")
    parser.add_argument("--body", default='{"data": [[1, 2, 3, 4]]}')
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', for normal requests")
    parser.add_argument("--expect", type=int, default=200, help="the status a normal request must get")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a normal request may take")
    parser.add_argument("--keep-alive", action="store_true", help="normal requests reuse connections")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between opening and measuring")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.host != "localhost" and not ipaddress.ip_address(args.host).is_loopback:
        parser.error("only loopback addresses may be targeted")
    return args


def raise_open_file_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


class SlowSockets:
    """N slow sockets, each reopened when the server closes it."""

    def __init__(self, args):
        self.args = args
        self.open = 0
        self.opened = 0
        self.closed_by_server = 0
        self.connect_errors = 0
        self.stopping = False

    async def run_one(self, number):
        # Sockets past --slow dribble an endless request line.
        mode = "line" if number >= self.args.slow else \
            "body" if number < self.args.slow * self.args.slow_body_share else "head"
        while not self.stopping:
            try:
                reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
            except OSError:
                self.connect_errors += 1
                await asyncio.sleep(0.2)
                continue
            self.open += 1
            self.opened += 1
            try:
                await self.dribble(reader, writer, mode)
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                self.open -= 1
                writer.close()
            if not self.stopping:
                self.closed_by_server += 1
                await asyncio.sleep(0.1)  # reopened, but not in a tight loop

    async def dribble(self, reader, writer, mode):
        # The normal requests' headers (a key among them): a slow client with
        # a valid key is one the server must not refuse on its head.
        head = f"POST {self.args.path} HTTP/1.1\r\nHost: {self.args.host}\r\n"
        head += "".join(header + "\r\n" for header in self.args.header)
        if mode == "body":
            head += "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        if mode == "line":
            head = f"GET {self.args.path}?"
        writer.write(head.encode())
        await writer.drain()
        closed = asyncio.ensure_future(reader.read(1))
        while not self.stopping:
            done, _ = await asyncio.wait([closed], timeout=self.args.interval)
            if done:
                return  # the server answered or closed
            writer.write({"body": b"x", "head": b"X-a: b\r\n", "line": b"a" * 64}[mode])
            await writer.drain()
        closed.cancel()


async def http_exchange(args, connection, request):
    """One request; returns (status, connection to reuse or None)."""
    if connection is None:
        connection = await asyncio.open_connection(args.host, args.port)
    reader, writer = connection
    writer.write(request)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed before an answer")
    status = int(status_line.split()[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "connection" and value.strip().lower() == "close":
            close = True
    await reader.readexactly(length)
    if close or not args.keep_alive:
        writer.close()
        return status, None
    return status, connection


def build_request(args):
    body = args.body.encode() if args.method != "GET" else b""
    lines = [f"{args.method} {args.path} HTTP/1.1", f"Host: {args.host}"]
    if args.method != "GET":
        lines += [f"Content-Type: {args.content_type}", f"Content-Length: {len(body)}"]
    lines += args.header
    if not args.keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def normal_client(args, request, budget, latencies, failures, deadline):
    connection = None
    while budget[0] > 0 and time.monotonic() < deadline:
        budget[0] -= 1
        started = time.monotonic()
        try:
            status, connection = await asyncio.wait_for(http_exchange(args, connection, request), args.timeout)
            if status != args.expect:
                failures.append(f"status {status}")
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError, asyncio.TimeoutError) as error:
            failures.append(f"{type(error).__name__}: {error}")
            if connection is not None:
                connection[1].close()
            connection = None
        latencies.append((time.monotonic() - started) * 1000)
    if connection is not None:
        connection[1].close()


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(args):
    deadline = time.monotonic() + args.max_seconds
    slow = SlowSockets(args)
    tasks = []
    for number in range(args.slow + args.endless_lines):
        tasks.append(asyncio.ensure_future(slow.run_one(number)))
        if number % 100 == 99:
            await asyncio.sleep(0.05)  # the accept queue is 4096 deep; be gentle anyway
    while slow.open < args.slow + args.endless_lines and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(args.settle)
    open_when_measuring = slow.open
    request = build_request(args)
    latencies, failures, budget = [], [], [args.requests]
    started = time.monotonic()
    await asyncio.gather(*(normal_client(args, request, budget, latencies, failures, deadline)
                           for _ in range(args.concurrency)))
    elapsed = time.monotonic() - started
    open_after = slow.open
    slow.stopping = True
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "slow_sockets": args.slow + args.endless_lines,
        "slow_open_when_measuring": open_when_measuring,
        "slow_open_after": open_after,
        "slow_closed_by_server": slow.closed_by_server,
        "slow_connect_errors": slow.connect_errors,
        "requests": len(latencies),
        "failed": len(failures),
        "failures": sorted(set(failures))[:10],
        "p50_ms": round(percentile(latencies, 0.50) or 0, 2),
        "p99_ms": round(percentile(latencies, 0.99) or 0, 2),
        "max_ms": round(max(latencies, default=0), 2),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0,
    }


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    raise_open_file_limit(arguments.slow + arguments.endless_lines + 256)
    result = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(result))
    else:
        print(f"{result['slow_open_when_measuring']} of {result['slow_sockets']} slow sockets open; "
              f"{result['requests']} normal requests, {result['failed']} failed; "
              f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, max {result['max_ms']} ms")
        for failure in result["failures"]:
            print("  failure:", failure)
    sys.exit(1 if result["failed"] else 0)

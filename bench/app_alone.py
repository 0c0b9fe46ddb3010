#!/usr/bin/env python3
"""CPU per request of a WSGI app called alone, without any server: the floor under every server's figure.

    python3 bench/app_alone.py                     # the Flask workload (bench/apps/flask_hello.py)
    .venv-ft/bin/python bench/app_alone.py         # the same on the free-threaded build (GIL off)
    PYTHON_GIL=1 .venv-ft/bin/python bench/app_alone.py

The app gets the environ our server builds for `GET /` (its parser and wsgi.build_environ, a fresh copy per
call), and its body is read and closed, as the server does. The bench README compares it with the CPU per
request of a Flask request through ours ("Where the Flask target is lost").
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="flask_hello:app", help="module:callable under bench/apps")
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "apps"))
    sys.path.insert(0, os.path.join(here, "..", "server-runtime", "python"))
    module, _, name = args.app.partition(":")
    app = getattr(importlib.import_module(module), name or "application")
    # The environ our server would give the app: its own parser and wsgi helpers, made once (a server copies
    # the connection's base per request, and so does one() below).
    from Server_3_free_threads.parser import RequestParser
    from Server_3_free_threads.wsgi import base_environ, build_environ, connection_environ

    parser = RequestParser(max_header_size=8192, max_body_size=1 << 20)
    (request,) = parser.feed(b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n")
    base = connection_environ(base_environ("127.0.0.1", 8000), ("127.0.0.1", 40000))

    def start_response(status, headers, exc_info=None):
        return None

    def one() -> None:
        body = app(build_environ(base, request), start_response)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()

    for _ in range(2000):  # warm-up: imports, caches
        one()
    started = time.process_time()
    for _ in range(args.requests):
        one()
    cpu = time.process_time() - started
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    print(
        f"{args.app} on Python {sys.version.split()[0]} (GIL {'on' if gil else 'off'}): "
        f"{cpu / args.requests * 1e6:.0f} us of CPU per request, {args.requests} requests"
    )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU per request of a WSGI app called alone, without any server: the floor under every server's figure.

    python3 bench/app_alone.py                     # the Flask workload (bench/apps/flask_hello.py)
    .venv-ft/bin/python bench/app_alone.py         # the same on the free-threaded build (GIL off)
    PYTHON_GIL=1 .venv-ft/bin/python bench/app_alone.py

The app gets a fresh copy of one GET environ per call and its body is read and closed, as a server would. The
bench README uses it to say how much of a Flask request is Flask's own (208 us of 394 on 3.13t GIL off).
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="flask_hello:app", help="module:callable under bench/apps")
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps"))
    module, _, name = args.app.partition(":")
    app = getattr(importlib.import_module(module), name or "application")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }

    def start_response(status, headers, exc_info=None):
        return None

    def one() -> None:
        body = app(dict(environ), start_response)
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

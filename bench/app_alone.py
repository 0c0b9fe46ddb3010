#!/usr/bin/env python3
"""CPU per request of a WSGI app called alone, without any server: the floor under every server's figure.

    python3 bench/app_alone.py                     # the Flask workload (bench/apps/flask_hello.py)
    .venv-ft/bin/python bench/app_alone.py         # the same on the free-threaded build (GIL off)
    PYTHON_GIL=1 .venv-ft/bin/python bench/app_alone.py
    .venv-ft/bin/python bench/app_alone.py --threads 2   # two threads calling it at once (as two app threads)
    .venv-ft/bin/python bench/app_alone.py --send        # + a loopback send after each call, as a server does

The app gets the environ our server builds for `GET /` (its parser and wsgi.build_environ, a fresh copy per
call), and its body is read and closed, as the server does. The bench README compares it with the CPU per
request of a Flask request through ours ("Where the Flask target is lost").
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import threading
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="flask_hello:app", help="module:callable under bench/apps")
    parser.add_argument("--requests", type=int, default=20000, help="per thread")
    parser.add_argument("--threads", type=int, default=1, help="threads calling the app at once")
    parser.add_argument(
        "--send",
        action="store_true",
        help="after each call, send 180 bytes on a loopback TCP connection that another thread reads (what a "
        "server does between two calls: it shows what the kernel's work costs the app's next call)",
    )
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

    if args.send:
        listener = socket.create_server(("127.0.0.1", 0))
        sender = socket.create_connection(listener.getsockname())
        receiver, _ = listener.accept()
        listener.close()

        def drain() -> None:
            while receiver.recv(65536):
                pass

        threading.Thread(target=drain, daemon=True).start()
    response = b"x" * 180  # about the size of the Flask hello response on the wire

    def one(app_ns: list) -> None:
        started = time.thread_time_ns()
        body = app(build_environ(base, request), start_response)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()
        app_ns[0] += time.thread_time_ns() - started
        if args.send:
            sender.sendall(response)

    def worker(cpu: list) -> None:
        app_ns = [0]
        for _ in range(2000):  # warm-up: imports, caches
            one(app_ns)
        app_ns[0] = 0
        started = time.thread_time()
        for _ in range(args.requests):
            one(app_ns)
        cpu.append((time.thread_time() - started, app_ns[0] / 1e9))

    # The calls run in threads started after the import, as in the server (its app threads): on a
    # free-threaded build an object is owned by the thread that made it, and others reach it differently.
    cpu: list[tuple[float, float]] = []  # per thread: (CPU seconds in all, of which in the app)
    threads = [threading.Thread(target=worker, args=(cpu,)) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    each = ", ".join(f"{in_app / args.requests * 1e6:.0f}" for _, in_app in cpu)
    print(
        f"{args.app} on Python {sys.version.split()[0]} (GIL {'on' if gil else 'off'}), {args.threads} "
        f"thread(s) at once: {each} us of CPU per request (per thread), {args.requests} requests each"
    )
    if args.send:
        total = ", ".join(f"{seconds / args.requests * 1e6:.0f}" for seconds, _ in cpu)
        print(f"  with the send after each call: {total} us per request in all (per thread)")


if __name__ == "__main__":
    main()

"""A tiny WSGI app for the README, the tests and the benchmark.

Routes: / (13-byte "Hello, world!"), /echo (POST: echoes the body), /sleep?ms=10 (I/O-bound), /big?kb=1024,
/stream (chunked, no Content-Length), /error (raises: the server answers 500 and logs the traceback).
"""

import time
from urllib.parse import parse_qs

HELLO = b"Hello, world!"


def _qs_int(environ, name, default):
    try:
        return int(parse_qs(environ.get("QUERY_STRING", "")).get(name, [default])[0])
    except ValueError:
        return default


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
        )
        return [body]
    if path == "/sleep":
        time.sleep(_qs_int(environ, "ms", 10) / 1000)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(HELLO)))])
        return [HELLO]
    if path == "/big":
        body = b"x" * (_qs_int(environ, "kb", 1024) * 1024)
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
        )
        return [body]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (f"chunk {i}\n".encode() for i in range(5))
    if path == "/error":
        raise RuntimeError("this route fails on purpose")
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]

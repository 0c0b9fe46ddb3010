"""The main test app: every route exercises one part of PEP 3333, and the whole app runs inside the stdlib's
wsgiref.validate.validator with its warnings turned into errors, so any spec violation (by the server or the
app) becomes a 500 that the tests see."""

import json
import os
import tempfile
import threading
import time
import warnings
from urllib.parse import parse_qs
from wsgiref.validate import WSGIWarning, validator

warnings.simplefilter("error", WSGIWarning)

_closed_lock = threading.Lock()
_closed = {"count": 0}
ENVIRON_KEYS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
    "wsgi.input_terminated",
)


def _qs(environ, name, default):
    return parse_qs(environ.get("QUERY_STRING", "")).get(name, [default])[0]


def _ok(start_response, body, content_type="text/plain"):
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


class TrackedBody:
    """An iterable with close(): the server must call close() once the response is done (PEP 3333)."""

    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        with _closed_lock:
            _closed["count"] += 1


def _read_all_in_pieces(stream, size):
    parts = []
    while True:
        part = stream.read(size)
        if not part:
            return b"".join(parts)
        parts.append(part)


def app(environ, start_response):
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    stream = environ["wsgi.input"]
    if path == "/":
        return _ok(start_response, b"Hello, world!")
    if path == "/echo":  # read(n) in pieces until EOF (wsgi.input_terminated)
        body = _read_all_in_pieces(stream, int(_qs(environ, "piece", "7")))
        return _ok(start_response, body, environ.get("CONTENT_TYPE") or "application/octet-stream")
    if path == "/echo-length":  # read exactly CONTENT_LENGTH
        length = int(environ.get("CONTENT_LENGTH") or 0)
        return _ok(start_response, stream.read(length))
    if path == "/lines":  # readline() and iteration
        first = stream.readline()
        rest = list(stream)
        body = json.dumps({"first": first.decode(), "rest": [line.decode() for line in rest]}).encode()
        return _ok(start_response, body, "application/json")
    if path == "/readlines":
        lines = stream.readlines()
        return _ok(start_response, json.dumps([line.decode() for line in lines]).encode(), "application/json")
    if path.startswith("/environ"):
        stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        data = {key: environ.get(key) for key in ENVIRON_KEYS}
        data.update({k: v for k, v in environ.items() if k.startswith("HTTP_")})
        return _ok(start_response, json.dumps(data).encode(), "application/json")
    if path == "/stream":  # no Content-Length: HTTP/1.1 chunked, HTTP/1.0 close-delimited
        start_response("200 OK", [("Content-Type", "text/plain")])
        count = int(_qs(environ, "n", "5"))
        return (f"chunk {i}\n".encode() for i in range(count))
    if path == "/write":  # the legacy write() callable, then an iterable
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written-1,")
        write(b"written-2,")
        return [b"returned"]
    if path == "/big":
        size = int(_qs(environ, "kb", "1024")) * 1024
        body = bytes(range(256)) * (size // 256)
        return _ok(start_response, body, "application/octet-stream")
    if path == "/big-stream":  # many chunks without Content-Length: exercises parking on EPOLLOUT
        count = int(_qs(environ, "n", "64"))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (bytes([i % 256]) * 65536 for i in range(count))
    if path == "/sleep":
        time.sleep(int(_qs(environ, "ms", "100")) / 1000)
        return _ok(start_response, b"slept")
    if path == "/error":
        raise RuntimeError("this route fails on purpose")
    if path == "/error-after-start":  # fails in the iterable, after start_response, before any byte
        start_response("200 OK", [("Content-Type", "text/plain")])

        def failing():
            raise RuntimeError("the iterable fails before its first chunk")
            yield b""  # pragma: no cover

        return failing()
    if path == "/error-mid-stream":  # fails after the head and a first chunk went out
        start_response("200 OK", [("Content-Type", "text/plain")])

        def failing_later():
            yield b"x" * 300000
            raise RuntimeError("the iterable fails mid-stream")

        return failing_later()
    if path == "/exc-info":  # an error page replacing a response whose headers were not sent yet
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("oops")
        except ValueError:
            import sys

            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Content-Length", "4")],
                sys.exc_info(),
            )
        return [b"oops"]
    if path == "/closed-count":
        with _closed_lock:
            count = _closed["count"]
        return _ok(start_response, str(count).encode())
    if path == "/tracked":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "7")])
        return TrackedBody([b"tra", b"cked"])
    if path == "/file":  # wsgi.file_wrapper: sent with os.sendfile
        size = int(_qs(environ, "kb", "512")) * 1024
        handle = tempfile.TemporaryFile()
        handle.write(bytes(range(256)) * (size // 256))
        handle.seek(int(_qs(environ, "skip", "0")))
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](handle, 8192)
    if path == "/status":
        code = _qs(environ, "code", "204")
        reasons = {"204": "No Content", "304": "Not Modified", "404": "Not Found", "302": "Found"}
        headers = [] if code in ("204", "304") else [("Content-Type", "text/plain"), ("Content-Length", "0")]
        start_response(f"{code} {reasons.get(code, 'Other')}", headers)
        return []
    if path == "/method":
        return _ok(start_response, method.encode())
    if path == "/pid":
        return _ok(start_response, str(os.getpid()).encode())
    if path == "/hold":  # in flight until the file named by ?file= exists (at most 15 s): a test releases it
        release, deadline = _qs(environ, "file", ""), time.monotonic() + 15
        while release and not os.path.exists(release) and time.monotonic() < deadline:
            time.sleep(0.01)
        return _ok(start_response, b"released")
    if path == "/os-environ":  # the process environment the app (and its child processes) would see
        return _ok(start_response, json.dumps(dict(os.environ)).encode(), "application/json")
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]


application = validator(app)

"""An app that misbehaves on purpose, run WITHOUT wsgiref.validate in between: the server's own checks (status
line, header names and values, exceptions of every kind) are what the tests exercise, not the validator's.

Routes (query values are percent-decoded):
  /status?s=STATUS                       start_response(STATUS, ...) as given
  /header?name=N&value=V                 one response header as given
  /raise?kind=K&when=W                   raise the builtin exception K (SystemExit, KeyboardInterrupt,
                                         GeneratorExit, MemoryError, ...; `Custom` = a BaseException subclass)
                                         W: call (before start_response), start (after it), iter (first item),
                                         mid (after a first chunk of 300 KiB, more than the server buffers,
                                         went out), close (in close(); with &kb=N the body is N KiB, so a
                                         slow client parks it)
  /fds?hold=N | /fds?release=1           open N descriptors and keep them (fds exhausted) / close them all
  /sleep?ms=N                            sleep, then 200
  /big?kb=N                              N KiB of body
  /echo                                  the request body back
  anything else                          200 "ok"
"""

import builtins
import os
import threading
import time
from urllib.parse import parse_qs

_held: list[int] = []
_held_lock = threading.Lock()


class Custom(BaseException):
    """Neither Exception nor one of the builtins: what some libraries raise to unwind."""


def _raise(kind: str):
    exception = Custom if kind == "Custom" else getattr(builtins, kind)
    if exception is SystemExit:
        raise SystemExit(3)
    raise exception(f"raised by the app on purpose ({kind})")


class _Body:
    def __init__(self, kind: str, when: str, kb: int = 0) -> None:
        self.kind = kind
        self.when = when
        self.kb = kb

    def __iter__(self):
        if self.when == "iter":
            _raise(self.kind)
        if self.kb:
            for _ in range(self.kb):
                yield b"k" * 1024
            return
        if self.when == "mid":
            yield b"first chunk;" + b"m" * (300 * 1024)
            _raise(self.kind)
        yield b"first chunk;"
        yield b"second chunk"

    def close(self) -> None:
        if self.when == "close":
            _raise(self.kind)


def application(environ, start_response):
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    path = environ["PATH_INFO"]
    if path == "/status":
        start_response(query["s"], [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/header":
        start_response("200 OK", [(query["name"], query["value"]), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/raise":
        kind, when = query["kind"], query.get("when", "call")
        if when == "call":
            _raise(kind)
        start_response("200 OK", [("Content-Type", "text/plain")])  # no length: streamed, chunked
        if when == "start":
            _raise(kind)
        return _Body(kind, when, int(query.get("kb", "0")))
    if path == "/fds":
        with _held_lock:
            if "release" in query:
                while _held:
                    os.close(_held.pop())
            for _ in range(int(query.get("hold", "0"))):
                try:
                    _held.append(os.open("/dev/null", os.O_RDONLY))
                except OSError:  # EMFILE: every descriptor is taken now
                    break
            body = str(len(_held)).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/sleep":
        time.sleep(int(query.get("ms", "100")) / 1000)
    if path == "/big":
        body = b"x" * (int(query.get("kb", "1024")) * 1024)
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
        )
        return [body]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response(
            "200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))]
        )
        return [body]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

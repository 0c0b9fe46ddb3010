"""The WSGI (PEP 3333) side of a request: the environ, wsgi.input, wsgi.file_wrapper.

The environ is a copy of a per-connection base dict (the wsgi.* constants, SERVER_NAME from DOMAIN,
SERVER_PORT, REMOTE_ADDR/PORT) updated with the request's own keys, which the parser prepared once per
distinct request head (`Request.cgi`: REQUEST_METHOD, PATH_INFO, ..., HTTP_*, CONTENT_TYPE, CONTENT_LENGTH).
The body was fully received by the read thread, so wsgi.input never blocks on the network: it is a BytesIO
(small bodies), a temporary file (large ones) or the shared EMPTY_INPUT (no body); all give read(n),
readline(n), readlines() and iteration, and wsgi.input_terminated is True (reading to EOF is safe, also for
chunked bodies).
"""

from __future__ import annotations

import io
import os
import stat
import sys


def base_environ(server_name: str, server_port: int) -> dict:
    return {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
        "SERVER_SOFTWARE": "Server_3_free_threads",
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SCRIPT_NAME": "",
    }


def connection_environ(base: dict, addr: tuple) -> dict:
    """The per-server base plus the client's address: made once per connection, copied per request."""
    return {**base, "REMOTE_ADDR": addr[0], "REMOTE_PORT": str(addr[1])}


def build_environ(connection_base: dict, request) -> dict:
    environ = connection_base.copy()
    environ.update(request.cgi)  # request line + headers, prepared once per distinct head by the parser
    body = request.body
    if type(body) is bytes:
        environ["wsgi.input"] = io.BytesIO(body) if body else EMPTY_INPUT
    else:
        environ["wsgi.input"] = body
    return environ


class EmptyInput:
    """wsgi.input of a request without a body (most GETs): one shared instance, since it has no state to
    share; a fresh BytesIO(b"") per request cost ~1 us. Offers what a BytesIO at EOF offers for reading."""

    __slots__ = ()
    closed = False

    def read(self, size: int | None = -1) -> bytes:
        return b""

    def read1(self, size: int | None = -1) -> bytes:
        return b""

    def readline(self, size: int | None = -1) -> bytes:
        return b""

    def readlines(self, hint: int | None = -1) -> list:
        return []

    def readinto(self, buffer) -> int:
        return 0

    def __iter__(self):
        return iter(())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        pass  # shared: closing it must not affect other requests


EMPTY_INPUT = EmptyInput()


class FileWrapper:
    """wsgi.file_wrapper: the server sends regular files with os.sendfile (zero copy); anything else is read
    in blocks like a normal iterable."""

    def __init__(self, filelike, blksize: int = 65536) -> None:
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        read = self.filelike.read
        while True:
            block = read(self.blksize)
            if not block:
                return
            yield block

    def sendfile_plan(self) -> list | None:
        """[fd, offset, length] when the file can go out with os.sendfile, else None."""
        try:
            fd = self.filelike.fileno()
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            offset = self.filelike.tell() if hasattr(self.filelike, "tell") else os.lseek(fd, 0, os.SEEK_CUR)
        except (AttributeError, OSError, io.UnsupportedOperation):
            return None
        return [fd, offset, max(0, info.st_size - offset)]

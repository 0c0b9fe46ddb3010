"""Response framing and sending for one request: start_response, write(), status line and headers,
Content-Length / chunked framing, HEAD, and non-blocking sends that park instead of blocking.

A response is sent by the app thread that runs the request. The socket is non-blocking: when its buffer is
full, `run()` returns False ("parked"); the app thread registers EPOLLOUT and moves on to other work, and when
the read thread sees the socket writable it queues the connection back to the app pool, which calls `run()`
again to continue where it stopped (the app's iterator is resumed, nothing is dropped or blocked).

The one exception is PEP 3333's `write()` callable, which must not return before its data is handed to the
OS: it waits for the socket in the calling app thread (bounded by SEND_TIMEOUT).
"""

from __future__ import annotations

import os
import re
import select
import time

from .parser import REASONS
from .wsgi import FileWrapper

HIGH_WATER = 256 * 1024  # bytes buffered from a streaming app before we try to send
JOIN_LIMIT = 64 * 1024  # smaller pending output is joined into one bytes and sent with one send()
IOV_MAX = 512

_date_cache: tuple[int, bytes] = (0, b"")
# Date formatting by hand: email.utils.formatdate would import email, datetime, calendar, locale, ... (about
# 0.9 MB of idle RSS). Same bytes as formatdate(now, usegmt=True) (tests/test_wsgi.py compares them).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(now: int) -> str:
    """`Tue, 24 Nov 2026 23:55:14 GMT` for a Unix time in seconds (RFC 9110 IMF-fixdate)."""
    t = time.gmtime(now)
    day, month = _DAYS[t.tm_wday], _MONTHS[t.tm_mon - 1]
    return f"{day}, {t.tm_mday:02d} {month} {t.tm_year:04d} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"


def date_header() -> bytes:
    """`Date: ...\\r\\n` for the current second (formatted once per second, shared by all threads)."""
    global _date_cache
    now = int(time.time())
    cached = _date_cache
    if cached[0] != now:
        cached = (now, b"Date: " + http_date(now).encode("ascii") + b"\r\n")
        _date_cache = cached
    return cached[1]


class ResponseCaches:
    """What responses remember between requests, one set per app thread: validated status strings -> their
    code, status strings -> their encoded status line, (status, headers) -> the validated, encoded header
    lines (apps repeat the same few). Each bounded to 1,024 entries.

    Per thread, not per process: on the free-threaded build a dict lookup of a key that another thread stored
    takes the dict's lock when the key is equal but not the same object (Flask and Django build their status
    strings per response), and the app threads queued on those locks: 41% of a Flask server's samples in
    sched_yield at 4 app threads; with one set per thread 685 -> 329 us of CPU per request (DESIGN.md,
    "Free-threaded safety"). Under the GIL it makes no difference."""

    __slots__ = ("status_codes", "status_lines", "heads")

    def __init__(self) -> None:
        self.status_codes: dict[str, int] = {}
        self.status_lines: dict[str, bytes] = {}
        self.heads: dict[tuple, tuple[bytes, int | None, bool]] = {}

    def status_line(self, status: str) -> bytes:
        line = self.status_lines.get(status)
        if line is None:
            line = b"HTTP/1.1 " + status.encode("latin-1") + b"\r\n"
            if len(self.status_lines) < 1024:
                self.status_lines[status] = line
        return line


# RFC 9110/9112: status-code SP reason-phrase, the reason being HTAB / SP / VCHAR / obs-text: no CR, LF or
# other control characters, so an app cannot put a header (or a second response) on the wire through it.
_STATUS = re.compile(r"[1-9][0-9]{2} [\t\x20-\x7e\x80-\xff]*")
# Header names are tokens; values are field-vchars with SP/HTAB inside (no CR, LF, NUL or other controls).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_MAX_LENGTH_DIGITS = 18  # a Content-Length from the app longer than this is not a length we can send


def _status_code(status, remembered: dict[str, int]) -> int:
    """Validates a WSGI status string and returns its code (remembered for the next time)."""
    if type(status) is not str or _STATUS.fullmatch(status) is None:
        raise ValueError(
            f"WSGI status must be a str like '200 OK' (3 digits, a space, a reason without control "
            f"characters), got {(status[:100] if type(status) is str else status)!r}"
        )
    code = int(status[:3])
    if len(remembered) < 1024:
        remembered[status] = code
    return code


def simple_response(status: int, message: str, keep_alive: bool = False) -> bytes:
    """A complete small text/plain response, for errors the server itself answers."""
    body = (message + "\n").encode("utf-8", "replace")
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
    ).encode("ascii")
    return head + date_header() + b"\r\n" + body


class ClientGone(Exception):
    """The client closed or reset the connection, or did not read for SEND_TIMEOUT seconds."""


_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "upgrade")
)


class Response:
    __slots__ = (
        "conn",
        "request",
        "status",
        "status_code",
        "headers",
        "keep_alive",
        "no_body",
        "chunked",
        "content_length",
        "known_length",
        "head_queued",
        "body_done",
        "body_bytes",
        "bytes_sent",
        "out",
        "out_size",
        "result",
        "iterator",
        "file",
        "send_timeout",
        "caches",
        "app_began",
        "first_out",
    )

    def __init__(
        self, conn, request, keep_alive: bool, send_timeout: float, caches: ResponseCaches | None = None
    ) -> None:
        self.conn = conn
        self.request = request
        self.status: str | None = None
        self.status_code = 0
        self.headers: list | None = None
        self.keep_alive = keep_alive
        self.no_body = False
        self.chunked = False
        self.content_length: int | None = None
        self.known_length: int | None = None
        self.head_queued = False
        self.body_done = False
        self.body_bytes = 0
        self.bytes_sent = 0
        self.out: list = []
        self.out_size = 0
        self.result = None
        self.iterator = None
        self.file: list | None = None  # [file descriptor, offset, bytes left] for os.sendfile
        self.send_timeout = send_timeout
        self.caches = caches if caches is not None else ResponseCaches()
        self.app_began = 0.0  # when an app thread took the request (set by it with METRICS=on)
        self.first_out = 0.0  # when the first byte went to the socket (the request log's app/send split)

    # ---- PEP 3333 ----

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.head_queued:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called a second time without exc_info")
        remembered = self.caches.status_codes
        code = remembered.get(status) if type(status) is str else None
        if code is None:
            code = _status_code(status, remembered)
        if type(headers) is not list:
            raise TypeError(f"WSGI response headers must be a list of (name, value) tuples, got {headers!r}")
        self.status = status
        self.status_code = code
        self.headers = headers
        return self.write

    def write(self, data) -> None:
        """The legacy write() callable: sends `data` before returning (PEP 3333)."""
        if self.status is None:
            raise AssertionError("write() called before start_response()")
        if type(data) is not bytes:
            raise TypeError(f"write() takes bytes, got {type(data).__name__}")
        self._queue_body(data)
        self._flush_blocking()

    # ---- framing ----

    def _build_head(self) -> bytes:
        if self.status is None:
            raise AssertionError("the app returned without calling start_response()")
        code = self.status_code
        request = self.request
        self.no_body = request.method == "HEAD" or code < 200 or code in (204, 304)
        heads = self.caches.heads
        try:
            key = (self.status, tuple(self.headers))
            cached = heads.get(key)
        except TypeError:  # unhashable (lists instead of tuples): validate and encode every time
            key = cached = None
        if cached is None:
            cached = self._encode_headers()
            if key is not None and len(cached[0]) <= 4096:  # bounded: 1,024 entries of at most 4 KB
                if len(heads) >= 1024:
                    heads.clear()
                heads[key] = cached
        encoded, content_length, close = cached
        if content_length is not None:
            self.content_length = content_length
        if close:
            self.keep_alive = False
        parts = [self.caches.status_line(self.status), encoded, date_header()]
        if self.content_length is None and not (code < 200 or code in (204, 304)):
            if self.known_length is not None:
                self.content_length = self.known_length
                parts.append(b"Content-Length: %d\r\n" % self.known_length)
            elif request.version == "HTTP/1.1":
                if not self.no_body:
                    self.chunked = True
                    parts.append(b"Transfer-Encoding: chunked\r\n")
            else:
                self.keep_alive = False  # HTTP/1.0 without a length: the end of the body is the close
        if not self.keep_alive:
            parts.append(b"Connection: close\r\n\r\n")
        elif request.version == "HTTP/1.0":
            parts.append(b"Connection: keep-alive\r\n\r\n")
        else:
            parts.append(b"\r\n")
        return b"".join(parts)

    def _encode_headers(self) -> tuple[bytes, int | None, bool]:
        """Validates the app's headers: (encoded lines, Content-Length or None, app asked to close)."""
        content_length = None
        close = False
        lines = []
        for header in self.headers:
            name, value = header
            if type(name) is not str or type(value) is not str:
                raise TypeError(f"WSGI header names and values must be str, got {header!r}")
            if _HEADER_NAME.fullmatch(name) is None:
                raise ValueError(f"invalid response header name {name[:100]!r} from the app (RFC 9110 token)")
            if _HEADER_VALUE.fullmatch(value) is None:
                raise ValueError(
                    f"response header {name!r} has control characters (CR, LF, NUL, ...) in its value "
                    f"{value[:100]!r} (header injection?)"
                )
            lower = name.lower()
            if lower == "content-length":
                digits = value.lstrip("0") or "0"
                if not (value.isascii() and value.isdigit()) or len(digits) > _MAX_LENGTH_DIGITS:
                    raise ValueError(f"invalid Content-Length {value[:100]!r} from the app")
                content_length = int(digits)
            elif lower in _HOP_BY_HOP or lower == "transfer-encoding":
                if lower == "connection" and value.lower() == "close":
                    close = True
                    continue
                raise ValueError(f"the app set the hop-by-hop header {name!r}; the server handles it")
            lines.append(f"{name}: {value}\r\n")
        return "".join(lines).encode("latin-1"), content_length, close

    def _queue_head(self) -> None:
        head = self._build_head()
        self.head_queued = True
        self.out.append(head)
        self.out_size += len(head)

    def _queue_body(self, data) -> None:
        if not self.head_queued:
            self._queue_head()
        size = len(data)
        if not size:
            return
        if self.no_body:
            self.body_bytes += size
            return
        if self.content_length is not None:
            room = self.content_length - self.body_bytes
            if size > room:  # more than the app announced: never send it, the next response would break
                data = data[:room]
                size = room
                self.keep_alive = False
                if not size:
                    return
        self.body_bytes += size
        if self.chunked:
            self.out.append(b"%x\r\n" % size)
            self.out.append(data)
            self.out.append(b"\r\n")
            self.out_size += size + 12
        else:
            self.out.append(data)
            self.out_size += size

    def _end_body(self) -> None:
        if self.body_done:
            return
        if not self.head_queued:
            self._queue_head()
        if self.chunked:
            self.out.append(b"0\r\n\r\n")
            self.out_size += 5
        elif (
            self.content_length is not None
            and self.body_bytes < self.content_length
            and not self.no_body
            and self.file is None
        ):
            self.keep_alive = False  # the app sent less than it announced: only a close ends the body
        self.body_done = True

    # ---- driving the app's iterable ----

    def begin(self, result) -> None:
        """Takes the app's return value; picks the fast paths (known length, sendfile)."""
        self.result = result
        kind = type(result)
        if kind is list or kind is tuple:
            if self.head_queued or self.status is None:
                pass
            elif len(result) == 1 and type(result[0]) is bytes:  # the usual case, without a generator
                self.known_length = len(result[0])
            elif all(type(chunk) is bytes for chunk in result):
                self.known_length = sum(map(len, result))
        else:
            if kind is FileWrapper and not self.head_queued:
                self.file = result.sendfile_plan()
                if self.file is not None and self.status is not None:
                    self.known_length = self.file[2]
        self.iterator = iter(result) if self.file is None else None

    def run(self) -> bool:
        """Sends as much as the socket takes. True: response complete; False: parked on a full socket."""
        if self.file is not None:
            return self._run_sendfile()
        if self.known_length is not None and not self.head_queued:
            return self._run_whole()
        iterator = self.iterator
        if not self.body_done:
            for chunk in iterator:
                if type(chunk) is not bytes:
                    raise TypeError(f"the app's iterable must yield bytes, got {type(chunk).__name__}")
                self._queue_body(chunk)
                if self.out_size >= HIGH_WATER and not self.flush():
                    return False
            self._end_body()
        return self.flush()

    def _run_whole(self) -> bool:
        """The app returned a list or tuple of bytes (plain WSGI apps usually do; Flask and Django return
        their own iterables): the whole response is known up front, so head and body go out together without
        the per-chunk bookkeeping of the streaming path (about 2 us less per small response)."""
        head = self._build_head()
        self.head_queued = True
        known = self.known_length
        if self.content_length != known:
            # _build_head sets it to `known` unless the app announced another length (the streaming path
            # truncates or closes as it must) or the status has no body (204, 304: nothing to gain here).
            self.out.append(head)
            self.out_size = len(head)
            return self.run()
        self.body_bytes = known
        self.body_done = True
        result = self.result
        if self.no_body:
            out = [head]
        elif known + len(head) <= JOIN_LIMIT:
            out = [head + result[0] if len(result) == 1 else head + b"".join(result)]
        else:
            out = [head]
            out += [chunk for chunk in result if chunk]
        self.out = out
        self.out_size = len(head) if self.no_body else len(head) + known
        return self.flush()

    def _run_sendfile(self) -> bool:
        if not self.head_queued:
            if self.content_length is None:
                self.known_length = self.file[2]
            self._queue_head()
            if self.content_length is not None and self.content_length < self.file[2]:
                self.file[2] = self.content_length
        if not self.flush():
            return False
        file = self.file
        if not self.no_body and not self.body_done:
            sock_fd = self.conn.sock.fileno()
            while file[2] > 0:
                try:
                    sent = os.sendfile(sock_fd, file[0], file[1], file[2])
                except BlockingIOError:
                    return False
                except OSError as error:
                    raise ClientGone(str(error)) from error
                if sent == 0:  # the file shrank under us: the announced length cannot be met
                    self.keep_alive = False
                    break
                file[1] += sent
                file[2] -= sent
                self.body_bytes += sent
                self.bytes_sent += sent
        self.body_done = True
        return True

    # ---- socket output ----

    def flush(self) -> bool:
        """Sends pending output without blocking. True when all of it went out."""
        out = self.out
        sock = self.conn.sock
        while out:
            try:
                if len(out) == 1:
                    sent = sock.send(out[0])
                elif self.out_size <= JOIN_LIMIT:
                    joined = b"".join(out)
                    out[:] = [joined]
                    sent = sock.send(joined)
                else:
                    sent = sock.sendmsg(out[:IOV_MAX])
            except BlockingIOError:
                return False
            except OSError as error:
                raise ClientGone(str(error)) from error
            if not self.bytes_sent:
                self.first_out = time.monotonic()
            self.bytes_sent += sent
            self.out_size -= sent
            while sent:
                first = out[0]
                if sent >= len(first):
                    sent -= len(first)
                    del out[0]
                else:
                    out[0] = memoryview(first)[sent:]
                    sent = 0
        return True

    def _flush_blocking(self) -> None:
        deadline = None
        while not self.flush():
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.send_timeout
            elif now >= deadline:
                raise ClientGone(f"client did not read for SEND_TIMEOUT ({self.send_timeout} s)")
            poller = select.poll()
            poller.register(self.conn.fd, select.POLLOUT)
            poller.poll(max(1, int((deadline - now) * 1000)))

    def replace(self, status_code: int, data: bytes) -> None:
        """Sends `data` (a complete response made by the server) instead of the app's, then closes."""
        self.out = [data]
        self.out_size = len(data)
        self.status_code = status_code
        self.head_queued = True
        self.body_done = True
        self.body_bytes = len(data) - data.find(b"\r\n\r\n") - 4
        self.keep_alive = False
        self.file = None
        self.iterator = None

    def close_result(self) -> None:
        """PEP 3333: call the iterable's close() whatever happened. Exceptions propagate to the caller."""
        result = self.result
        self.result = None
        self.iterator = None
        if result is not None and type(result) is not list and hasattr(result, "close"):  # lists have none
            result.close()

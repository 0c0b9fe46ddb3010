"""Incremental HTTP/1.1 request parser with limits (RFC 9112), fed by the read thread.

`RequestParser.feed(data)` takes whatever recv() returned (a partial request, exactly one, or several
pipelined ones) and returns the requests it completed, in order. Bodies (Content-Length or chunked) are
collected here, in the read thread, so a slow client never holds an app thread; large bodies spill to a
temporary file. A request the parser rejects comes back as a `Request` whose `error` is an `HttpError`
(400, 413, 431, 501, 505); the parser then stops, since the rest of the stream cannot be trusted.

Strict on purpose (no request smuggling): CRLF line ends only, no obsolete line folding, no whitespace
before the colon, Content-Length must be digits, conflicting Content-Lengths or Content-Length together with
Transfer-Encoding are 400, any transfer coding other than a lone `chunked` is 501. The request target is
visible ASCII only, the asterisk form (`*`) is for OPTIONS only, Host must be an RFC 3986 host[:port], and
trailers may not carry framing or routing fields (Content-Length, Transfer-Encoding, Host, ...).

Nothing a client sends may raise anything but HttpError out of `feed()`: every number is bounded in length
before it is converted (`int()` of more than 4,300 digits raises ValueError), and a body that cannot be
stored (no descriptors or disk space for its temporary file) is a 503, not an exception in the read thread.
"""

from __future__ import annotations

import re

REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}


class HttpError(Exception):
    """A request the server refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
# The target: visible ASCII only (RFC 9112 3.2 / RFC 3986); raw bytes >= 0x80 are refused, as gunicorn,
# waitress and nginx do: a client must percent-encode them.
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/(\d)\.(\d)")
_HEADER_LINE = re.compile(rb"(" + _TOKEN + rb"):[ \t]*([\t\x20-\x7e\x80-\xff]*)")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:[ \t]*;[\t\x20-\x7e\x80-\xff]*)?")
# Host = uri-host [ ":" port ] (RFC 9110 7.2, RFC 3986 3.2.2): an IP literal in brackets or a reg-name
# (unreserved, percent-encoded, sub-delims); no spaces, no userinfo `@`, no `/`, `?`, `#` or raw bytes.
_HOST_VALUE = re.compile(r"(?:\[[0-9A-Za-z:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?")
# Content-Length digits worth converting: more can only be a length beyond any MAX_BODY_SIZE (leading zeros
# are stripped first, so "000...05" is still 5).
_MAX_LENGTH_DIGITS = 18
_MAX_CHUNK_LINE = 4096  # a chunk size line (size + extensions) longer than this is refused
# Fields a trailer may not carry (RFC 9110 6.5.1: framing, routing, request modifiers, authentication):
# refused with 400, so no later hop can take them for header fields.
_FORBIDDEN_TRAILERS = frozenset(
    (
        b"content-length",
        b"transfer-encoding",
        b"host",
        b"connection",
        b"keep-alive",
        b"te",
        b"trailer",
        b"upgrade",
        b"expect",
        b"content-encoding",
        b"content-type",
        b"content-range",
        b"authorization",
        b"proxy-authorization",
        b"cookie",
    )
)

# %XX -> byte, as urllib.parse.unquote_to_bytes decodes it (that module pulls ipaddress: ~0.5 MB idle RSS).
_HEX_TO_BYTE = {
    (a + b).encode(): bytes.fromhex(a + b) for a in "0123456789ABCDEFabcdef" for b in "0123456789ABCDEFabcdef"
}


def unquote_to_bytes(data: bytes) -> bytes:
    """Same result as urllib.parse.unquote_to_bytes for bytes (tests/test_parser.py compares them)."""
    bits = data.split(b"%")
    if len(bits) == 1:
        return data
    res = [bits[0]]
    append = res.append
    for item in bits[1:]:
        byte = _HEX_TO_BYTE.get(item[:2])
        if byte is None:
            append(b"%")
            append(item)
        else:
            append(byte)
            append(item[2:])
    return b"".join(res)


# Header kinds the parser acts on; every other header just becomes an HTTP_* environ key.
_PLAIN, _CONTENT_LENGTH, _TRANSFER_ENCODING, _CONNECTION, _EXPECT, _HOST = range(6)
_SPECIAL = {
    b"content-length": _CONTENT_LENGTH,
    b"transfer-encoding": _TRANSFER_ENCODING,
    b"connection": _CONNECTION,
    b"expect": _EXPECT,
    b"host": _HOST,
}
# raw header name -> (environ key or None, kind). Only the read thread writes it; bounded in entries and in
# name length (4,096 names of up to MAX_HEADER_SIZE bytes each could otherwise hold hundreds of MB).
_KEYS: dict[bytes, tuple[str | None, int]] = {}


def _key_for(name: bytes) -> tuple[str | None, int]:
    low = name.lower()
    kind = _SPECIAL.get(low, _PLAIN)
    if low == b"content-type":
        key: str | None = "CONTENT_TYPE"
    elif low == b"content-length":
        key = "CONTENT_LENGTH"
    elif b"_" in name:
        # X_Forwarded_For would alias X-Forwarded-For in the environ: drop it (header spoofing).
        key = None
    else:
        key = "HTTP_" + name.decode("ascii").upper().replace("-", "_")
    if len(_KEYS) < 4096 and len(name) <= 64:  # real names are short; a client's made-up ones need no cache
        _KEYS[name] = (key, kind)
    return key, kind


_new_request = object.__new__


def _cgi_keys(request: Request) -> dict[str, str]:
    """The environ keys of a parsed head (PEP 3333 request line keys + the HTTP_* headers)."""
    return {
        "REQUEST_METHOD": request.method,
        "PATH_INFO": request.path,
        "QUERY_STRING": request.query,
        "SERVER_PROTOCOL": request.version,
        "REQUEST_URI": request.target,
        "RAW_URI": request.target,
        **request.headers,
    }


class Request:
    """One parsed request, handed from the read thread to an app thread."""

    __slots__ = (
        "method",
        "target",
        "path",
        "query",
        "version",
        "headers",
        "cgi",
        "keep_alive",
        "body",
        "error",
        "conn",
        "start",
        "began",
        "size",
        "expect_continue",
    )

    def __init__(self) -> None:
        self.method = "GET"
        self.target = ""
        self.path = ""
        self.query = ""
        self.version = "HTTP/1.1"
        self.headers: dict[str, str] = {}
        # The environ keys this head gives (request line + headers), made once per distinct head and shared by
        # the requests cloned from it: build_environ() adds them with one dict update. Never mutated.
        self.cgi: dict[str, str] = {}
        self.keep_alive = False
        self.body: bytes | object = b""  # bytes, or a binary file positioned at 0 for large bodies
        self.error: HttpError | None = None
        self.conn = None
        self.start = 0.0  # when it was parsed whole (the read thread's clock, time.monotonic)
        self.began = 0.0  # when its first byte came
        self.size = 0  # bytes received for it: head + body (a chunked body counts its decoded size)
        self.expect_continue = False

    def clone(self) -> Request:
        """A fresh request with this one's head. `headers` and `cgi` are shared, not copied: nothing mutates
        them (the app gets its own environ; a chunked body's CONTENT_LENGTH replaces both dicts)."""
        request = _new_request(Request)  # every field set here: skips __init__ setting them twice
        request.method = self.method
        request.target = self.target
        request.path = self.path
        request.query = self.query
        request.version = self.version
        request.headers = self.headers
        request.cgi = self.cgi
        request.keep_alive = self.keep_alive
        request.body = b""
        request.error = None
        request.conn = None
        request.start = 0.0
        request.began = 0.0
        request.size = self.size
        request.expect_continue = self.expect_continue
        return request

    @classmethod
    def failed(cls, error: HttpError) -> Request:
        request = cls()
        request.error = error
        return request


def _cannot_store(error: OSError) -> HttpError:
    return HttpError(503, f"the server cannot store the request body now ({error.strerror or error})")


class _Body:
    """Collects a request body: in memory up to `spool` bytes, then in an anonymous temporary file.

    In memory it keeps the pieces as they came (bytes, or memoryviews of the received bytes) and joins them
    once at the end: one copy of the body instead of three (slice, bytearray append, bytes()); a body that
    arrived in one piece is handed over without any copy. Measured on the 64 KiB POST echo at 64
    connections: see DESIGN.md."""

    __slots__ = ("size", "_parts", "_file", "_spool")

    def __init__(self, spool: int) -> None:
        self.size = 0
        self._parts: list = []
        self._file = None
        self._spool = spool

    def write(self, data) -> None:
        self.size += len(data)
        try:
            if self._file is not None:
                self._file.write(data)
                return
            self._parts.append(data)
            if self.size > self._spool:
                import tempfile  # only when a body spills: tempfile pulls shutil, random, ... (~0.9 MB idle)

                self._file = tempfile.TemporaryFile()
                for part in self._parts:
                    self._file.write(part)
                self._parts = []
        except OSError as error:  # no descriptor left (EMFILE), disk full, TMPDIR unusable, ...
            self.discard()
            raise _cannot_store(error) from None

    def finish(self):
        if self._file is None:
            parts = self._parts
            if len(parts) == 1 and type(parts[0]) is bytes:
                return parts[0]
            return b"".join(parts)
        try:
            self._file.seek(0)
        except OSError as error:
            self.discard()
            raise _cannot_store(error) from None
        return self._file

    def discard(self) -> None:
        """Frees what was collected (closes the temporary file, so its descriptor and space come back)."""
        self._parts = []
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None


_CHUNKED = -1
# head bytes -> (template Request, body length or _CHUNKED); only the read thread uses it
_HEAD_CACHE: dict[bytes, tuple] = {}
_HEAD, _BODY, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _DEAD = range(7)
SPOOL_BYTES = 1 << 20


class RequestParser:
    """Turns the byte stream of one connection into `Request`s. Used by the read thread only."""

    def __init__(self, max_header_size: int, max_body_size: int) -> None:
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        self._buf = b""
        self._state = _HEAD
        self._request: Request | None = None
        self._body: _Body | None = None
        self._remaining = 0
        self._trailer_bytes = 0
        # Set when a request with `Expect: 100-continue` waits for its body; the read thread answers it.
        self.continue_needed = False

    @property
    def idle(self) -> bool:
        """True between requests with nothing buffered (a keep-alive connection waiting)."""
        return self._state == _HEAD and not self._buf

    @property
    def body_left(self) -> int:
        """Bytes of the current body (or chunk) still to come; 0 when none is being read."""
        return self._remaining if self._state in (_BODY, _CHUNK_DATA) else 0

    @property
    def dead(self) -> bool:
        return self._state == _DEAD

    def feed(self, data: bytes) -> list[Request]:
        if self._state == _DEAD:
            return []
        if self._buf:
            data = self._buf + data
            self._buf = b""
        out: list[Request] = []
        try:
            self._feed(data, out)
        except HttpError as error:
            self._state = _DEAD
            self._buf = b""
            if self._body is not None:
                self._body.discard()
            self._body = None
            self.continue_needed = False
            out.append(Request.failed(error))
        return out

    def _feed(self, data: bytes, out: list[Request]) -> None:
        pos = 0
        end_of_data = len(data)
        while pos < end_of_data:
            state = self._state
            if state == _HEAD:
                while data.startswith(b"\r\n", pos):  # RFC 9112 2.2: ignore empty lines before a request
                    pos += 2
                end = data.find(b"\r\n\r\n", pos)
                if end < 0:
                    # Up to 3 bytes of the terminator may be in already: not part of the head's size (a head
                    # of exactly MAX_HEADER_SIZE must pass however the input is split).
                    if end_of_data - pos > self.max_header_size + 3:
                        raise HttpError(
                            431, f"request headers exceed MAX_HEADER_SIZE ({self.max_header_size})"
                        )
                    break
                if end - pos > self.max_header_size:
                    raise HttpError(431, f"request headers exceed MAX_HEADER_SIZE ({self.max_header_size})")
                request = self._parse_head(data[pos:end])
                pos = end + 4
                if self._state == _HEAD:
                    out.append(request)
                else:
                    self._request = request
                    self.continue_needed = request.expect_continue
            elif state == _BODY:
                take = min(self._remaining, end_of_data - pos)
                self._body.write(data if take == end_of_data else memoryview(data)[pos : pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._complete(out)
            elif state == _CHUNK_SIZE_LINE:
                end = data.find(b"\r\n", pos)
                if (end if end >= 0 else end_of_data) - pos > _MAX_CHUNK_LINE:  # same verdict however split
                    raise HttpError(400, "chunk size line too long")
                if end < 0:
                    break
                match = _CHUNK_SIZE.fullmatch(data, pos, end)
                if match is None:
                    raise HttpError(400, "malformed chunk size line")
                size = int(match.group(1), 16)
                pos = end + 2
                if self._body.size + size > self.max_body_size:
                    raise HttpError(413, f"request body exceeds MAX_BODY_SIZE ({self.max_body_size})")
                if size:
                    self._remaining = size
                    self._state = _CHUNK_DATA
                else:
                    self._state = _TRAILER
            elif state == _CHUNK_DATA:
                take = min(self._remaining, end_of_data - pos)
                self._body.write(data if take == end_of_data else memoryview(data)[pos : pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if end_of_data - pos < 2:
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise HttpError(400, "chunk data not followed by CRLF")
                pos += 2
                self._state = _CHUNK_SIZE_LINE
            elif state == _TRAILER:
                end = data.find(b"\r\n", pos)
                if end < 0:
                    if end_of_data - pos + self._trailer_bytes > self.max_header_size:
                        raise HttpError(431, "request trailers exceed MAX_HEADER_SIZE")
                    break
                line_length = end - pos
                pos = end + 2
                if line_length == 0:
                    self._complete(out)
                else:
                    self._trailer_bytes += line_length + 2
                    if self._trailer_bytes > self.max_header_size:
                        raise HttpError(431, "request trailers exceed MAX_HEADER_SIZE")
                    match = _HEADER_LINE.fullmatch(data, pos - line_length - 2, pos - 2)
                    if match is None:
                        raise HttpError(400, "malformed trailer line")
                    name = match.group(1).lower()
                    if name in _FORBIDDEN_TRAILERS:
                        raise HttpError(400, f"{name.decode()} is not allowed in a trailer")
            else:  # _DEAD
                return
        if pos < end_of_data:
            self._buf = data[pos:]

    def _complete(self, out: list[Request]) -> None:
        request = self._request
        request.size += self._body.size
        request.body = self._body.finish()
        if request.version == "HTTP/1.1" and "CONTENT_LENGTH" not in request.headers:
            # chunked: tell the app the decoded length, as most frameworks read CONTENT_LENGTH. New dicts: the
            # old ones are shared with the cached head (see Request.clone).
            length = str(self._body.size)
            request.headers = {**request.headers, "CONTENT_LENGTH": length}
            request.cgi = {**request.cgi, "CONTENT_LENGTH": length}
        out.append(request)
        self._request = None
        self._body = None
        self._trailer_bytes = 0
        self._state = _HEAD
        self.continue_needed = False

    def _parse_head(self, head: bytes) -> Request:
        """Parses a request head and sets up reading its body. Small heads are memoized: parsing is a pure
        function of the bytes, and clients repeat the same heads (keep-alive polling, benchmarks)."""
        cached = _HEAD_CACHE.get(head)
        if cached is None:
            cached = self._parse_head_fresh(head)
            cached[0].cgi = _cgi_keys(cached[0])
            if len(head) <= 1024:
                if len(_HEAD_CACHE) >= 512:
                    _HEAD_CACHE.clear()
                _HEAD_CACHE[head] = cached
        template, body_length = cached
        request = template.clone()
        request.size = len(head) + 4
        if body_length == _CHUNKED:
            self._body = _Body(SPOOL_BYTES)
            self._state = _CHUNK_SIZE_LINE
        elif body_length:
            if body_length > self.max_body_size:
                raise HttpError(413, f"request body exceeds MAX_BODY_SIZE ({self.max_body_size})")
            self._body = _Body(SPOOL_BYTES)
            self._remaining = body_length
            self._state = _BODY
        return request

    def _parse_head_fresh(self, head: bytes) -> tuple[Request, int]:
        """(request, body length or _CHUNKED). Raises HttpError."""
        lines = head.split(b"\r\n")
        match = _REQUEST_LINE.fullmatch(lines[0])
        if match is None:
            raise HttpError(400, f"malformed request line {lines[0][:80]!r}")
        method, target, major, minor = match.groups()
        if major != b"1":
            raise HttpError(505, f"HTTP/{major.decode()}.{minor.decode()} is not supported; use HTTP/1.1")
        http11 = minor != b"0"
        request = Request()
        request.method = method.decode("ascii")
        request.version = "HTTP/1.1" if http11 else "HTTP/1.0"
        request.target = target.decode("ascii")
        self._split_target(request, target)

        headers = request.headers
        keys = _KEYS
        content_length = None
        transfer_encoding = None
        connection = ""
        hosts = 0
        for line in lines[1:]:
            match = _HEADER_LINE.fullmatch(line)
            if match is None:
                if line[:1] in (b" ", b"\t"):
                    raise HttpError(400, "obsolete header line folding is not allowed")
                raise HttpError(400, f"malformed header line {line[:80]!r}")
            name, raw_value = match.groups()
            key, kind = keys.get(name) or _key_for(name)
            value = raw_value.rstrip(b" \t").decode("latin-1")
            if kind:
                if kind == _CONTENT_LENGTH:
                    if not (value.isascii() and value.isdigit()):
                        raise HttpError(400, f"invalid Content-Length {value[:40]!r}")
                    digits = value.lstrip("0") or "0"
                    if len(digits) > _MAX_LENGTH_DIGITS:
                        raise HttpError(413, f"request body exceeds MAX_BODY_SIZE ({self.max_body_size})")
                    length = int(digits)
                    if content_length is not None and content_length != length:
                        raise HttpError(400, "conflicting Content-Length headers")
                    content_length = length
                    headers["CONTENT_LENGTH"] = str(length)
                    continue
                if kind == _TRANSFER_ENCODING:
                    transfer_encoding = value if transfer_encoding is None else f"{transfer_encoding},{value}"
                elif kind == _CONNECTION:
                    connection = f"{connection},{value.lower()}"
                elif kind == _EXPECT:
                    if value.lower() == "100-continue":
                        request.expect_continue = http11
                elif kind == _HOST:
                    hosts += 1
                    if hosts > 1:
                        raise HttpError(400, "more than one Host header")
                    if _HOST_VALUE.fullmatch(value) is None:
                        raise HttpError(400, f"invalid Host {value[:80]!r}")
            if key is None:
                continue
            if key in headers:
                headers[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
            else:
                headers[key] = value
        if http11 and not hosts:
            raise HttpError(400, "HTTP/1.1 request without a Host header")

        if http11:
            request.keep_alive = "close" not in connection
        else:
            request.keep_alive = "keep-alive" in connection

        if transfer_encoding is not None:
            if content_length is not None:
                raise HttpError(400, "both Content-Length and Transfer-Encoding given")
            if not http11:
                raise HttpError(400, "Transfer-Encoding is not allowed in HTTP/1.0")
            codings = [c.strip().lower() for c in transfer_encoding.split(",")]
            if codings != ["chunked"]:
                raise HttpError(501, f"unsupported Transfer-Encoding {transfer_encoding[:40]!r}")
            return request, _CHUNKED
        if not content_length:
            request.expect_continue = False
        return request, content_length or 0

    @staticmethod
    def _split_target(request: Request, target: bytes) -> None:
        if target[:1] != b"/":
            if target == b"*":
                if request.method != "OPTIONS":  # the asterisk form is for OPTIONS only (RFC 9112 3.2.4)
                    raise HttpError(400, f"the request target * is for OPTIONS, not {request.method}")
                request.path = "*"
                return
            lower = target[:8].lower()
            if lower.startswith(b"http://") or lower.startswith(b"https://"):
                # absolute-form (proxies send it): keep the path and query only
                after_scheme = target.index(b"//") + 2
                slash = target.find(b"/", after_scheme)
                target = target[slash:] if slash >= 0 else b"/"
            else:
                raise HttpError(400, f"invalid request target {target[:80]!r}")
        path, _, query = target.partition(b"?")
        if b"%" in path:
            request.path = unquote_to_bytes(path).decode("latin-1")
        else:
            request.path = path.decode("latin-1")
        request.query = query.decode("latin-1")

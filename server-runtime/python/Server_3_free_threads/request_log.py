"""Where each request's time went in the pipeline: the record of every request, by stage, for the editor's
Requests view and STATS /requests (METRICS=on; nothing is recorded with METRICS=off).

A request's stages, from the timestamps the threads take anyway (one clock read per epoll batch in the read
thread, a few per request in the app thread):

    handoff   accept -> read thread takes the connection (first request of a connection only)
    read      first byte of the request -> request parsed (a slow client's upload shows here)
    queue     parsed -> an app thread takes it (a full app pool shows here; also a pipelined request waiting
              for the one before it on its connection)
    app       app thread starts -> the first byte of the response is handed to the socket (the app's own time)
    send      first byte -> last byte handed to the socket (a client that reads slowly shows here)
    linger    the connection's graceful close, recorded by the close thread against the connection (its last
              request's view adds it)

Free-threaded safety: one writer per record. Each app thread keeps its own `RequestLog` (the last requests,
the slowest of the current minute, per-route aggregates) and only that thread writes it; the close thread
keeps its own `LingerLog`. Readers (snapshots for the control channel and STATS) copy what they need:
list(deque) and dict copies are single operations on their own object (atomic on the free-threaded build too),
and records are tuples, never changed once made.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections import deque
from heapq import heappush, heappushpop

from .metrics import LATENCY_BOUNDS_MS

# A record as it is kept: a tuple of what the app thread had at hand, in this order (the stage times are only
# worked out when someone looks: per request, making this tuple is all the work). The clock values are
# time.monotonic() seconds; the headers are references, not copies (the parsed head's dict is shared and
# never changed, the app's list is the app's), for the one request an inspector asks about (`detail`).
(
    _SEQ,
    _TIME,
    _CONNECTION,
    _THREAD,
    _METHOD,
    _PATH,
    _ROUTE,
    _STATUS,
    _BYTES_IN,
    _BYTES_OUT,
    _HANDOFF,
    _BEGAN,
    _PARSED,
    _APP_BEGAN,
    _FIRST_OUT,
    _SENT,
    _REQUEST_HEADERS,
    _RESPONSE_HEADERS,
) = range(18)
_LATENCY_BOUNDS_S = [bound / 1000.0 for bound in LATENCY_BOUNDS_MS]

MAX_ROUTES = 200  # distinct routes per thread; more go to "(other)"
SLOWEST = 20  # slowest requests of the current minute, per thread

# Path segments that name one item rather than a place (/users/123, /orders/3f2a...): collapsed to {id} so the
# per-route table does not grow with every user.
_ID_SEGMENT = re.compile(
    r"[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}|[A-Za-z0-9_-]{24,}|[^/]*[0-9][^/]*[0-9][^/]*[0-9][^/]*"
)
_ROUTE_CACHE: dict[str, str] = {}  # path -> route; read and written by app threads (a pure function: races
# store equal values); bounded


def route_of(path: str) -> str:
    """`/users/123/posts/7` -> `/users/{id}/posts/{id}`: segments that are numbers, UUIDs, long hex or long
    tokens, or carry three or more digits, become {id}."""
    route = _ROUTE_CACHE.get(path)
    if route is None:
        route = "/".join("{id}" if _ID_SEGMENT.fullmatch(seg) else seg for seg in path.split("/"))
        if len(route) > 200:
            route = route[:200] + "..."
        if len(_ROUTE_CACHE) < 4096:
            _ROUTE_CACHE[path] = route
    return route


class RequestLog:
    """One app thread's requests: the last `keep`, the slowest of the current minute, and per-route counts
    (requests, 5xx, a latency histogram). Written only by its thread (see the module's docstring)."""

    def __init__(self, thread: str, keep: int) -> None:
        self.thread = thread
        self.recent: deque = deque(maxlen=keep)
        self.slowest: list = []  # heap of (total seconds, seq, record), the current minute's slowest
        self.minute_ends = 0.0  # wall-clock end of the current minute
        # route -> [requests, 5xx, latency bucket counts...]: one list per route, changed in place
        self.routes: dict[str, list] = {}
        self.seq = 0

    def add(self, record: tuple) -> None:
        """`record`: a tuple in the kept order (see above), its seq from `next_seq()`."""
        self.recent.append(record)
        total = record[_HANDOFF] + record[_SENT] - record[_BEGAN]
        if record[_TIME] >= self.minute_ends:
            self.minute_ends = (record[_TIME] // 60 + 1) * 60
            self.slowest = []
        if len(self.slowest) < SLOWEST:
            heappush(self.slowest, (total, record[_SEQ], record))
        elif total > self.slowest[0][0]:
            heappushpop(self.slowest, (total, record[_SEQ], record))
        route = record[_ROUTE]
        counts = self.routes.get(route)
        if counts is None:
            if len(self.routes) >= MAX_ROUTES:
                route = "(other)"
                counts = self.routes.get(route)
            if counts is None:
                counts = self.routes[route] = [0, 0] + [0] * (len(LATENCY_BOUNDS_MS) + 1)
        counts[0] += 1
        if record[_STATUS] >= 500:
            counts[1] += 1
        counts[2 + bisect_left(_LATENCY_BOUNDS_S, total)] += 1

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


class LingerLog:
    """The close thread's record of each connection's graceful close: (connection id, linger ms), the last
    `keep`. Its only writer is the close thread."""

    def __init__(self, keep: int = 2000) -> None:
        self.recent: deque = deque(maxlen=keep)

    def add(self, connection: int, linger_ms: float) -> None:
        self.recent.append((connection, linger_ms))


def _percentile_ms(counts: list, q: float) -> float | None:
    total = sum(counts)
    if not total:
        return None
    rank = max(1, -(-int(q * total * 1000) // 1000))
    seen = 0
    for i, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return float(LATENCY_BOUNDS_MS[min(i, len(LATENCY_BOUNDS_MS) - 1)])
    return float(LATENCY_BOUNDS_MS[-1])


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def as_dict(record: tuple) -> dict:
    """The record as the JSON gives it: its stage times in milliseconds."""
    handoff, began, parsed, app_began = record[_HANDOFF], record[_BEGAN], record[_PARSED], record[_APP_BEGAN]
    first_out, sent = record[_FIRST_OUT], record[_SENT]
    return {
        "seq": record[_SEQ],
        "time": record[_TIME],
        "connection": record[_CONNECTION],
        "thread": record[_THREAD],
        "method": record[_METHOD],
        "path": record[_PATH],
        "route": record[_ROUTE],
        "status": record[_STATUS],
        "bytesIn": record[_BYTES_IN],
        "bytesOut": record[_BYTES_OUT],
        "handoffMs": _ms(handoff),
        "readMs": _ms(parsed - began),
        "queueMs": _ms(app_began - parsed),
        "appMs": _ms(first_out - app_began),
        "sendMs": _ms(sent - first_out),
        "totalMs": _ms(handoff + sent - began),
    }


# Header values an inspector must not show: credentials and session state. Matched on the lower-case name.
_SECRET_NAMES = frozenset(("authorization", "proxy-authorization", "cookie", "set-cookie", "x-csrf-token"))
_SECRET_WORDS = ("token", "secret", "password", "passwd", "api-key", "apikey", "session", "auth")


def redact(name: str, value: str) -> str:
    low = name.lower()
    if low in _SECRET_NAMES or any(word in low for word in _SECRET_WORDS):
        return "[redacted]"
    return value


def _header_name(environ_key: str) -> str:
    """HTTP_X_REQUEST_ID -> X-Request-Id (the parser keeps request headers as environ keys)."""
    name = environ_key[5:] if environ_key.startswith("HTTP_") else environ_key
    return "-".join(part.capitalize() for part in name.split("_"))


def detail(logs: list[RequestLog], thread: str, seq: int) -> dict | None:
    """One request's record with its headers (secrets redacted), or None when it is no longer kept."""
    for log in logs:
        if log.thread != thread:
            continue
        for record in list(log.recent):
            if record[_SEQ] == seq:
                request_headers, response_headers = record[_REQUEST_HEADERS], record[_RESPONSE_HEADERS]
                item = as_dict(record)
                item["requestHeaders"] = [
                    [_header_name(key), redact(_header_name(key), value)]
                    for key, value in (request_headers or {}).items()
                ]
                item["responseHeaders"] = [
                    [name, redact(name, value)] for name, value in response_headers or ()
                ]
                return item
    return None


def requests_snapshot(logs: list[RequestLog], lingers: LingerLog, last: int = 200) -> dict:
    """What the Requests view and STATS /requests show: the last `last` requests of every app thread merged by
    time, the slowest of the current minute, and the per-route table (count, 5xx, p50/p99 from the
    histogram buckets), with the linger of each connection that closed."""
    recent = []
    slowest = []
    routes: dict[str, list] = {}
    for log in logs:
        recent += list(log.recent)
        slowest += [entry[2] for entry in list(log.slowest)]
        for route, counts in list(log.routes.items()):
            merged = routes.get(route)
            if merged is None:
                routes[route] = list(counts)
            else:
                for i, count in enumerate(list(counts)):
                    merged[i] += count
    recent.sort(key=lambda r: r[_TIME])
    slowest.sort(key=lambda r: r[_BEGAN] - r[_HANDOFF] - r[_SENT])  # slowest first
    linger = dict(list(lingers.recent))
    table = []
    for route, counts in routes.items():
        histogram = counts[2:]
        table.append(
            {
                "route": route,
                "requests": counts[0],
                "errors5xx": counts[1],
                "p50Ms": _percentile_ms(histogram, 0.5),
                "p99Ms": _percentile_ms(histogram, 0.99),
            }
        )
    table.sort(key=lambda row: -row["requests"])

    def out(record: tuple) -> dict:
        item = as_dict(record)
        closed = linger.get(record[_CONNECTION])
        if closed is not None:  # known once the connection closed (and then for its every request kept)
            item["lingerMs"] = closed
        return item

    return {
        "time": time.time(),
        "recent": [out(r) for r in recent[-last:]],
        "slowest": [out(r) for r in slowest[:SLOWEST]],
        "routes": table,
    }

"""Per-connection state shared by the read thread, the app threads and the close thread.

Who owns what (so nothing is touched by two threads without `lock`):
- `parser`: the read thread only (the close thread looks at `parser.idle` once the read thread let go).
- `last_active`: the read thread, and the app thread that makes the connection idle again (under `lock`).
- `closed` and the socket's close: the close thread, under `lock`; the read thread reads (recv) only under
  `lock` after checking `closing`, so it never reads a descriptor number that was closed and reused.
- `busy`, `pending`, `eof`, `parked`, `read_paused`, `closing`: under `lock`. `busy` means an app thread owns
  the connection's output (it runs a request or a parked response belongs to it); requests the read thread
  parses meanwhile (pipelining) wait in `pending` and run in order, so responses keep the request order.
- `response`: the app thread holding `busy`.
- The epoll registration in the read thread's epoll is changed only through `update_events()`, under `lock`,
  from the flags above (level-triggered, so a flag set late never loses an event).
"""

from __future__ import annotations

import threading
from collections import deque
from select import EPOLLIN, EPOLLOUT, EPOLLRDHUP

# A connection stops being read while this many pipelined requests wait for their turn.
MAX_PENDING = 16


class Connection:
    __slots__ = (
        "sock",
        "fd",
        "addr",
        "parser",
        "lock",
        "busy",
        "pending",
        "eof",
        "parked",
        "parked_since",
        "parked_bytes",
        "read_paused",
        "closing",
        "closed",
        "client_done",
        "environ",
        "registered",
        "response",
        "last_active",
        "epoll",
        "number",
        "handoff",
        "request_began",
        "close_began",
    )

    def __init__(self, sock, addr, parser, epoll, now: float) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.addr = addr
        self.parser = parser
        self.epoll = epoll
        self.lock = threading.Lock()
        self.busy = False
        self.pending: deque = deque()
        self.eof = False
        self.parked = False
        self.parked_since = 0.0  # start of the current stall (no byte sent since)
        self.parked_bytes = -1
        self.read_paused = False
        self.closing = False
        self.closed = False
        self.environ = None  # (server base environ, it + REMOTE_ADDR/PORT): see AppThread.begin_request
        self.client_done = False  # the last request asked to close and was read whole (see close_thread.py)
        self.registered = False
        self.response = None
        self.last_active = now
        self.number = (
            0  # the connection's number since start (the accept thread's count), for the request log
        )
        self.handoff = 0.0  # seconds from accept to the read thread taking it (the first request's handoff)
        self.request_began = now  # when the first byte of the request being read came (the read thread's)
        self.close_began = 0.0  # when the close thread took it (its linger's start)

    def event_mask(self) -> int:
        mask = 0
        if not (self.eof or self.read_paused or self.parser.dead):
            mask = EPOLLIN | EPOLLRDHUP
        if self.parked:
            mask |= EPOLLOUT
        return mask

    def update_events(self) -> bool:
        """Re-derive the epoll registration from the flags. Call with `lock` held. False if epoll refused
        (the socket is being torn down, or the kernel is out of memory for epoll entries)."""
        if self.closing:
            return True
        mask = self.event_mask()
        try:
            if mask:
                if self.registered:
                    self.epoll.modify(self.fd, mask)
                else:
                    self.epoll.register(self.fd, mask)
                    self.registered = True
            elif self.registered:
                self.epoll.unregister(self.fd)
                self.registered = False
        except OSError:
            return False  # the close thread finishes a socket being torn down; adopt() handles the rest
        return True

    def detach(self) -> None:
        """Take the connection out of the read thread's epoll for good (the close thread calls this)."""
        with self.lock:
            self.closing = True
            if self.registered:
                try:
                    self.epoll.unregister(self.fd)
                except OSError:
                    pass
                self.registered = False

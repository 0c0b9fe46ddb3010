"""Stage 2: the read thread. One epoll over every client connection: it reads what arrived, feeds each
connection's incremental parser and queues complete requests to the app pool (one at a time per connection;
pipelined ones wait in the connection's `pending`, see connection.py). It also:
- takes new connections from the accept thread (its inbox) and registers them;
- sees sockets that became writable for parked responses and queues them back to the app pool;
- once a second sweeps timeouts: idle keep-alive (KEEPALIVE_TIMEOUT), slow requests (REQUEST_TIMEOUT -> 408),
  clients that stopped reading (SEND_TIMEOUT); and during a graceful stop closes idle connections.
Nothing here blocks except epoll.poll(), so slow or idle clients cost a dict entry, never a thread.
Whatever handling one connection raises drops that connection (`drop`), never the thread (see stage.py).
"""

from __future__ import annotations

import select
import socket
import time

from . import faults
from .connection import MAX_PENDING, Connection
from .logs import LOG
from .metrics import LoopTimer, gil_enabled
from .parser import RequestParser
from .response import simple_response
from .stage import Stage, traceback_text

# 64 KiB, not more: 256 KiB crossed malloc's mmap threshold and cost ~18 us per call (mmap + munmap), about
# half of a small request. Reads go into one reusable buffer (recv_into) and only the bytes that came are
# copied out: recv(n) allocates n bytes and shrinks them to what arrived, and the shrunk blocks fragment the
# heap (RSS grew 14.6 MB over 100,000 garbage requests, 1.6 MB with recv_into; bench/garbage_soak.py). While
# a large body streams in, recv(n) returns full buffers (nothing to shrink), so it is used there: one copy
# less per 64 KiB.
RECV_SIZE = 64 * 1024
SERIALIZE_WAIT = 0.01
SERIALIZE_BELOW = 0.0005  # seconds per request (the pool's average)
SERIALIZE_MIN_BATCH = 4
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_READ_EVENTS = select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR | select.EPOLLRDHUP
_WRITE_EVENTS = select.EPOLLOUT | select.EPOLLHUP | select.EPOLLERR


class ReadThread(Stage):
    def __init__(self, server) -> None:
        super().__init__(server, "read", "read", server.app_pool.__len__)
        self.epoll = select.epoll()
        self.connections: dict[int, Connection] = {}
        # Requests and resumed connections for the app pool, queued at the end of each epoll batch: waking an
        # app thread mid-batch would make it fight this thread for the GIL at every recv() of the batch.
        self.dispatch: list = []
        self.buffer = memoryview(bytearray(RECV_SIZE))  # see RECV_SIZE

    def loop(self) -> None:
        server = self.server
        inbox = server.read_inbox
        inbox_fd = inbox.fd
        self.epoll.register(inbox_fd, select.EPOLLIN)
        connections = self.connections
        stats = self.stats
        timer = LoopTimer(stats, server.metrics_on)
        monotonic = time.monotonic
        poll = self.epoll.poll
        next_sweep = monotonic() + 1.0
        pool = server.app_pool
        pool_work = pool.work
        drained = pool.drained
        app_threads = server.app_threads
        serialize = gil_enabled()
        next_kick = 0.0
        fault_points = faults.ACTIVE
        while self.running:
            timer.waiting()
            timeout = 0.1 if server.draining else max(0.0, next_sweep - monotonic())
            if pool_work and timeout > pool.KICK_AFTER:
                timeout = pool.KICK_AFTER
            events = poll(timeout)
            timer.busy()
            if fault_points:
                faults.hit("read.loop")
            now = monotonic()
            for fd, mask in events:
                conn = connections.get(fd)
                if conn is None or conn.closed:
                    if fd == inbox_fd:
                        self.adopt(inbox.drain(), now)
                    continue
                try:
                    if fault_points:
                        faults.hit("read.event")
                    if mask & _WRITE_EVENTS and conn.parked:
                        self.on_writable(conn)
                    if mask & _READ_EVENTS and not conn.eof:
                        self.on_readable(conn, now)
                except Exception:  # one connection's problem (or a bug it triggered): drop it, go on
                    self.drop(conn, traceback_text())
            if self.dispatch:
                wait = (
                    serialize and len(self.dispatch) >= SERIALIZE_MIN_BATCH and pool.service < SERIALIZE_BELOW
                )
                if wait:
                    drained.acquire(False)  # forget a stale "drained" from an earlier batch
                pool.submit(self.dispatch)
                self.dispatch.clear()
                if wait and pool_work:
                    # GIL builds: let the app threads run this batch before reading the next one. Reading
                    # while they send made every recv()/send() a GIL hand-off between two runnable threads
                    # (a futex wake and a context switch each); waiting here costs one wake-up per batch.
                    # Bounded, so a long-running request delays reading by at most SERIALIZE_WAIT; and
                    # only for fast apps: slow ones (I/O) leave the GIL free, reading meanwhile costs nothing;
                    # and only for batches of a few requests: for one (a lone client) the wait's own wake-up
                    # costs more than it saves (c1: 7.4 instead of 4.7 context switches per request).
                    drained.acquire(True, SERIALIZE_WAIT)
            if pool_work:
                if now >= next_kick:
                    pool.kick(sum(t.stats.items for t in app_threads))
                    next_kick = now + pool.KICK_AFTER
            else:
                next_kick = now + pool.KICK_AFTER
            if now >= next_sweep or server.draining:
                self.sweep(now)
                next_sweep = now + 1.0

    def adopt(self, accepted: list, now: float) -> None:
        settings = self.server.settings
        for sock, addr, number, accepted_at in accepted:
            parser = RequestParser(settings.max_header_size, settings.max_body_size)
            conn = Connection(sock, addr, parser, self.epoll, now)
            conn.number = number
            conn.handoff = now - accepted_at  # charged to the connection's first request
            self.connections[conn.fd] = conn
            with conn.lock:
                if not conn.update_events():  # epoll refused it (ENOMEM, max_user_watches): nothing to read
                    conn.eof = True
                    conn.busy = True  # claimed for closing
            if conn.eof:
                self.stats.errors += 1
                self.server.close_inbox.put(conn)

    def on_readable(self, conn: Connection, now: float) -> None:
        # Under the connection's lock: the close thread closes sockets under it too, and an event of this
        # batch may be for a connection it is closing. Reading after that close, once its descriptor number
        # went to a new client, would steal that client's first bytes.
        try:
            with conn.lock:
                if conn.closing:
                    return
                if conn.parser.body_left >= RECV_SIZE:
                    data = conn.sock.recv(RECV_SIZE)
                else:
                    n = conn.sock.recv_into(self.buffer)
                    data = self.buffer[:n].tobytes() if n else b""
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.on_eof(conn)
            return
        self.stats.bytes_in += len(data)
        parser = conn.parser
        was_idle = parser.idle
        requests = parser.feed(data)
        began = conn.request_began  # when the first byte of the request in progress came (before this data)
        if not parser.idle and (was_idle or requests):
            # The request clock (REQUEST_TIMEOUT) starts with a request's first byte. Empty lines before a
            # request (RFC 9112 2.2) leave the parser idle and the keep-alive clock running: a client that
            # sends a bare CRLF every second must not hold its connection forever.
            if was_idle:
                conn.last_active = now
            conn.request_began = now
        if parser.continue_needed:
            parser.continue_needed = False
            if not conn.busy:  # otherwise a response is on the wire; the client sends the body anyway
                try:
                    conn.sock.send(CONTINUE)
                except OSError:
                    pass
        if not requests:
            if parser.dead:
                with conn.lock:
                    conn.update_events()
            return
        self.stats.items += len(requests)
        for request in requests:
            request.conn = conn
            request.start = now
            request.began = now
        if not was_idle:  # the first one began in an earlier read: its read time counts from then
            requests[0].began = began
        first = None
        with conn.lock:
            if conn.busy:
                conn.pending.extend(requests)
                if len(conn.pending) >= MAX_PENDING:
                    conn.read_paused = True
            else:
                conn.busy = True
                first = requests[0]
                if len(requests) > 1:
                    conn.pending.extend(requests[1:])
            if conn.read_paused or parser.dead:
                conn.update_events()
        conn.last_active = now
        if first is not None:
            self.dispatch.append(first)

    def on_eof(self, conn: Connection) -> bool:
        """The client closed its side (or reset): close now if idle, else after the current response.
        True if the connection was idle (and is now on its way to the close thread)."""
        with conn.lock:
            conn.eof = True
            conn.update_events()
            idle = not conn.busy
            if idle:
                conn.busy = True  # claimed for closing
        if idle:
            self.server.close_inbox.put(conn)
        return idle

    def drop(self, conn: Connection, traceback: str) -> None:
        """Handling this connection raised: log it, answer 500 if no response is under way, and close it as
        if the client had gone (the app thread owning a response closes it when that response is done)."""
        self.stats.errors += 1
        LOG.error(
            "internal error in the read thread on a connection from %s (dropped):\n%s",
            conn.addr[0],
            traceback.rstrip(),
        )
        try:
            if self.on_eof(conn):
                conn.sock.send(simple_response(500, "500 Internal Server Error (see the server log)"))
        except Exception:  # the connection is gone anyway; the thread must go on
            pass

    def on_writable(self, conn: Connection) -> None:
        with conn.lock:
            if not conn.parked:
                return
            conn.parked = False
            conn.update_events()
        self.dispatch.append(conn)

    def sweep(self, now: float) -> None:
        settings = self.server.settings
        draining = self.server.draining
        connections = self.connections
        for fd, conn in list(connections.items()):
            if conn.closed or conn.closing:
                if conn.closed and connections.get(fd) is conn:
                    del connections[fd]
                continue
            try:
                self.check_clocks(conn, now, settings, draining)
            except Exception:
                self.drop(conn, traceback_text())

    def check_clocks(self, conn: Connection, now: float, settings, draining: bool) -> None:
        """One connection's timeouts: a parked response (SEND_TIMEOUT), an idle keep-alive connection
        (KEEPALIVE_TIMEOUT, or at once while stopping), a request that takes too long to arrive (408)."""
        with conn.lock:  # park() sets `parked` and `parked_since` in one hold: read them as one
            busy, parked, parked_since = conn.busy, conn.parked, conn.parked_since
        if busy:
            if not parked:
                return
            send_timeout = settings.send_timeout
            if now - parked_since <= send_timeout:
                if now - parked_since >= 0.5:
                    # Safety net against a missed EPOLLOUT wake-up (peers with tiny receive windows stall
                    # in TCP zero-window probing): retry a parked send once a second.
                    self.on_writable(conn)
                return
            LOG.info("closing %s: client did not read for SEND_TIMEOUT (%s s)", conn.addr[0], send_timeout)
            self.stats.errors += 1
            try:  # makes the parked send fail, so the app thread cleans the response up
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        idle_for = now - conn.last_active
        if conn.parser.idle:
            if draining or idle_for >= settings.keepalive_timeout:
                self.close_idle(conn, None)
        elif idle_for >= settings.request_timeout:
            self.stats.errors += 1
            limit = settings.request_timeout
            message = f"408 Request Timeout: the request took longer than REQUEST_TIMEOUT ({limit} s)"
            self.close_idle(conn, simple_response(408, message))

    def close_idle(self, conn: Connection, goodbye: bytes | None) -> None:
        with conn.lock:
            if conn.busy:
                return
            conn.busy = True
        if goodbye is not None:
            try:
                conn.sock.send(goodbye)
            except OSError:
                pass
        self.server.close_inbox.put(conn)

    def wake(self) -> None:
        self.server.read_inbox.wakeup.wake()

    def close_all(self) -> None:
        """At exit: close whatever is left (the shutdown timeout ran out)."""
        for conn in list(self.connections.values()):
            try:
                conn.sock.close()
            except OSError:
                pass
        self.epoll.close()

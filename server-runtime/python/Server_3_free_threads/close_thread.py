"""Stage 4: the close thread. Closes finished connections (Connection: close, errors, idle keep-alive,
clients gone) without cutting off the last response:

a graceful half-close: shutdown(SHUT_WR) sends our FIN after everything already written, then we read and
discard whatever the client still sends until it closes too (or LINGER_SECONDS pass), and only then close().
Closing with unread input would make the kernel answer with a RST, which can destroy the response still in
flight. Deadlines come from this thread's own epoll timeout: no sleeps.

The exception: a client that asked to close (Connection: close, HTTP/1.0) and sent nothing after its request
is closed at once: it has nothing more to send, so there is no input to drain and no RST to fear.
"""

from __future__ import annotations

import select
import socket
import time
from heapq import heappop, heappush

from . import faults
from .logs import LOG
from .metrics import LoopTimer
from .request_log import LingerLog
from .stage import Stage, traceback_text

LINGER_SECONDS = 2.0
DRAIN_LINGER_SECONDS = 0.5  # while stopping: the process exit is waiting on these


class CloseThread(Stage):
    def __init__(self, server) -> None:
        super().__init__(server, "close", "close", lambda: len(self.lingering))
        self.epoll = select.epoll()
        self.lingering: dict[int, tuple] = {}  # fd -> (connection, deadline)
        # (deadline, sequence, fd, connection) of every linger started, soonest first: the next timeout and
        # the expired lingers cost O(log n) per event, not a scan of every lingering connection. Entries of
        # lingers that ended early (the client closed) stay until they come up and are skipped then.
        self.deadlines: list[tuple] = []
        self.started = 0
        self.closed_count = 0  # connections fully closed (read by snapshots and the accept thread)
        self.fault_points = faults.ACTIVE
        self.metrics_on = server.metrics_on
        self.linger_log = LingerLog()  # each connection's close time (METRICS=on), written only here

    def loop(self) -> None:
        inbox = self.server.close_inbox
        self.epoll.register(inbox.fd, select.EPOLLIN)
        stats = self.stats
        timer = LoopTimer(stats, self.server.metrics_on)
        lingering = self.lingering
        fault_points = faults.ACTIVE
        deadlines = self.deadlines
        while self.running or lingering:
            timer.waiting()
            timeout = -1
            while deadlines and self.ended(deadlines[0]):
                heappop(deadlines)
            if deadlines:
                timeout = max(0.0, deadlines[0][0] - time.monotonic())
            events = self.epoll.poll(timeout)
            timer.busy()
            if fault_points:
                faults.hit("close.loop")
            for fd, _mask in events:
                if fd == inbox.fd:
                    for conn in inbox.drain():
                        self.guarded(self.begin_close, conn, conn)
                else:
                    entry = lingering.get(fd)
                    if entry is not None:
                        self.guarded(self.drain_input, fd, entry[0])
            if deadlines:
                now = time.monotonic()
                while deadlines and deadlines[0][0] <= now:
                    entry = heappop(deadlines)
                    if not self.ended(entry):
                        self.guarded(self.finish, entry[2], entry[3])

    def ended(self, entry: tuple) -> bool:
        """Whether this heap entry's linger is over already (the connection was closed meanwhile)."""
        current = self.lingering.get(entry[2])
        return current is None or current[0] is not entry[3]

    def guarded(self, step, arg, conn) -> None:
        """Runs one step of closing `conn`; if it raises, the connection is closed outright and counted, so
        an error never leaves a descriptor open or a slot of MAX_CONNECTIONS taken."""
        try:
            if self.fault_points:
                faults.hit("close.item")
            step(arg)
        except Exception:
            self.stats.errors += 1
            LOG.error(
                "internal error in the close thread (closing the connection outright):\n%s",
                traceback_text().rstrip(),
            )
            self.lingering.pop(conn.fd, None)
            if not conn.closed:
                self.finish_conn(conn)

    def begin_close(self, conn) -> None:
        if conn.closing:  # already handed over once (a connection is closed once, and counted once)
            return
        conn.detach()
        if self.metrics_on:
            conn.close_began = time.monotonic()
        if conn.eof:  # the client already closed (or is gone): nothing to wait for
            self.finish_conn(conn)
            return
        if conn.client_done and not conn.pending and conn.parser.idle:
            # The client sent "Connection: close" (or HTTP/1.0) and nothing after its request: it will
            # send nothing more, so close() (FIN after the unsent output, no RST) without the lingering
            # drain below, as nginx does. That saves shutdown, recv and an epoll round trip per
            # connection on Connection: close loads.
            self.finish_conn(conn)
            return
        sock = conn.sock
        try:
            if self.fault_points:
                faults.hit("close.shutdown")
            sock.shutdown(socket.SHUT_WR)
            # Cheap path: a client that closes after the response (Connection: close) has often sent its FIN
            # by now; then nothing is left to drain and the socket closes without an epoll round trip.
            while sock.recv(65536):
                pass
        except BlockingIOError:
            pass
        except OSError:  # reset by the client meanwhile (ENOTCONN, ECONNRESET): nothing left to drain
            self.stats.errors += 1
            self.finish_conn(conn)
            return
        else:
            self.finish_conn(conn)
            return
        try:
            if self.fault_points:
                faults.hit("close.register")
            self.epoll.register(conn.fd, select.EPOLLIN | select.EPOLLRDHUP)
        except OSError:  # out of epoll watches or memory: close now, without the linger
            self.stats.errors += 1
            self.finish_conn(conn)
            return
        linger = DRAIN_LINGER_SECONDS if self.server.draining else LINGER_SECONDS
        deadline = time.monotonic() + linger
        self.lingering[conn.fd] = (conn, deadline)
        self.started += 1
        heappush(self.deadlines, (deadline, self.started, conn.fd, conn))

    def drain_input(self, fd: int) -> None:
        sock = self.lingering[fd][0].sock
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
        except BlockingIOError:
            return
        except OSError:
            pass
        self.finish(fd)

    def finish(self, fd: int) -> None:
        conn, _ = self.lingering.pop(fd)
        try:
            if self.fault_points:
                faults.hit("close.unregister")
            self.epoll.unregister(fd)
        except OSError:  # close() below removes it from the epoll set all the same
            self.stats.errors += 1
        self.finish_conn(conn)

    def finish_conn(self, conn) -> None:
        with (
            conn.lock
        ):  # the read thread reads only under this lock, after checking `closing` (see on_readable)
            try:
                conn.sock.close()
                if self.fault_points:  # after it: close() releases the descriptor even when it fails
                    faults.hit("close.socket")
            except OSError:  # the descriptor is released whatever close() reports
                self.stats.errors += 1
            conn.closed = True
        if self.metrics_on and conn.close_began:
            self.linger_log.add(conn.number, round((time.monotonic() - conn.close_began) * 1000, 3))
        self.stats.items += 1
        self.closed_count += 1
        self.server.on_connection_closed()

    def wake(self) -> None:
        self.server.close_inbox.wakeup.wake()

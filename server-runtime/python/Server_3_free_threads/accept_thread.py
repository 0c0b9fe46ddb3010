"""Stage 1: the accept thread. Waits on the listening socket, accepts every pending connection (a batch per
wake-up), makes each non-blocking with TCP_NODELAY, and hands the batch to the read thread with one wake-up.

At MAX_CONNECTIONS open connections it stops watching the listening socket (new clients wait in the kernel's
backlog) until the close thread reports a close. Out of descriptors (EMFILE/ENFILE) or kernel memory, it
stops accepting for BACKOFF seconds instead of spinning on a listener that stays readable. On stop it closes
the listening socket, so the port is free at once while in-flight requests finish.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time

from . import faults
from .handoff import Wakeup
from .logs import LOG
from .metrics import LoopTimer
from .stage import Stage, traceback_text

BATCH = 128
BACKOFF = 0.5  # seconds without accepting after EMFILE/ENFILE/ENOBUFS/ENOMEM
# accept() errors that concern one connection only (it was reset or aborted before we took it): skip it.
_ONE_CONNECTION = (errno.ECONNABORTED, errno.EPROTO, errno.EPERM, errno.ENETDOWN, errno.EHOSTUNREACH)
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)

# Accepted connections are plain C-level sockets (`_socket.socket`, exported as socket.SocketType), made from
# the fd of the listener's C-level accept: socket.socket.accept() spends ~4 us per connection in Python (two
# enum conversions for .family/.type, the Python-level socket.__init__), and socket.socket.close() goes
# through Python-level io bookkeeping. Everything the server calls on a connection (recv, send, sendmsg,
# shutdown, setsockopt, fileno, close) is a C method of the base class, so nothing else changes.
RawSocket = socket.SocketType


class AcceptThread(Stage):
    def __init__(self, server, listener: socket.socket) -> None:
        super().__init__(server, "accept", "accept", server.read_inbox.__len__)
        self.listener = listener
        self.epoll = select.epoll()
        self.wakeup = Wakeup()
        self.accepted = 0
        self.paused = False  # at MAX_CONNECTIONS
        self.backoff_until = 0.0  # after EMFILE: out of file descriptors
        self.last_backoff_log = -10.0

    def loop(self) -> None:
        listener = self.listener
        listener.setblocking(False)
        # Linux copies TCP_NODELAY from the listening socket to accepted ones: one setsockopt here instead
        # of one per connection (Connection: close loads accept a connection per request).
        try:
            listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            nodelay_inherited = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        except OSError:
            nodelay_inherited = False
        lfd = listener.fileno()
        accept_fd = listener._accept  # the C accept under socket.socket.accept(): (fd, address)
        family, kind, proto = int(listener.family), int(listener.type), listener.proto
        self.epoll.register(lfd, select.EPOLLIN)
        self.epoll.register(self.wakeup.fd, select.EPOLLIN)
        watching = True
        stats = self.stats
        timer = LoopTimer(stats, self.server.metrics_on)
        server = self.server
        fault_points = faults.ACTIVE
        while self.running:
            timer.waiting()
            timeout = -1 if not self.backoff_until else max(0.0, self.backoff_until - time.monotonic())
            events = self.epoll.poll(timeout)
            timer.busy()
            if fault_points:
                faults.hit("accept.loop")
            if any(fd == self.wakeup.fd for fd, _ in events):
                self.wakeup.consume()
            if not self.running:
                break
            if self.backoff_until and time.monotonic() >= self.backoff_until:
                self.backoff_until = 0.0
            room = server.max_connections - server.connections_open()
            self.paused = room <= 0  # the close thread wakes us after each close while paused
            if self.paused:
                # A close may have counted itself between the count above and `paused`, and seen paused still
                # False (so no wake-up): count again now that `paused` is visible.
                room = server.max_connections - server.connections_open()
                self.paused = room <= 0
            want = room > 0 and not self.backoff_until
            if want != watching:
                self.epoll.modify(lfd, select.EPOLLIN if want else 0)
                watching = want
            if not want or not events:
                continue
            now = time.monotonic()  # the accept time of this batch (a request's handoff starts here)
            batch = []
            while len(batch) < min(BATCH, room):
                try:
                    fd, addr = accept_fd()
                except BlockingIOError:
                    break
                except OSError as error:
                    stats.errors += 1
                    if error.errno in _ONE_CONNECTION:
                        continue
                    if now - self.last_backoff_log >= 10.0:  # one line per episode, not two a second
                        self.last_backoff_log = now
                        hint = " (raise the open-file limit, ulimit -n, or lower MAX_CONNECTIONS)"
                        LOG.error(
                            "accept failed: %s; pausing accepts for %s s at a time%s",
                            error,
                            BACKOFF,
                            hint if error.errno in _OUT_OF_RESOURCES else "",
                        )
                    # The listener stays readable while the backlog holds connections: without a pause this
                    # loop would spin at 100% CPU until a descriptor frees up.
                    self.backoff_until = now + BACKOFF
                    self.epoll.modify(lfd, 0)
                    watching = False
                    break
                try:
                    if fault_points:
                        faults.hit("accept.item")
                    sock = RawSocket(family, kind, proto, fd)
                except Exception:  # not expected for a fresh accept; never leak the descriptor
                    stats.errors += 1
                    LOG.error("cannot set up an accepted connection:\n%s", traceback_text().rstrip())
                    os.close(fd)
                    continue
                try:
                    sock.setblocking(False)
                    if not nodelay_inherited:
                        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass
                batch.append((sock, addr, self.accepted + len(batch) + 1, now))
            if batch:
                self.accepted += len(batch)
                stats.items += len(batch)
                server.read_inbox.put_many(batch)
        try:
            listener.close()
        except OSError:
            pass

    def wake(self) -> None:
        self.wakeup.wake()

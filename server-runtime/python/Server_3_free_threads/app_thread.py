"""Stage 3: the app threads (a pool of APP_THREADS). Each one takes a request from the app queue, builds the
environ, calls the WSGI app and sends the response; then, on the same connection, it runs the next pipelined
request if one is waiting, or gives the connection back to the read thread (keep-alive) or to the close
thread.

A response that meets a full socket buffer is parked (see response.py): the thread registers EPOLLOUT for the
connection and takes the next task; the read thread queues the connection back here when it is writable.
So a slow client never holds an app thread, and a slow app holds only its own thread.

The app's code (the call, its iterable, its close()) may raise anything, BaseException included: an app that
raises SystemExit or KeyboardInterrupt ends its request with a 500 (or a cut connection when the head is out),
a logged traceback, and the thread goes on serving. Signals never reach these threads (signals.py), so a
KeyboardInterrupt here can only come from the app itself.
"""

from __future__ import annotations

import sys
import time

from . import faults
from .logs import LOG
from .metrics import LoopTimer
from .parser import Request
from .request_log import RequestLog, route_of
from .response import ClientGone, Response, ResponseCaches, simple_response
from .stage import Stage, traceback_text
from .wsgi import build_environ, connection_environ

_traceback_text = traceback_text


def _app_error_note() -> str:
    """A hint for exceptions that would stop a plain Python program but must not stop the server."""
    kind = sys.exc_info()[0]
    if kind is not None and not issubclass(kind, Exception):
        return f" (the app raised {kind.__name__}: the server keeps serving; stop it with SIGTERM)"
    return ""


class AppThread(Stage):
    def __init__(self, server, index: int) -> None:
        super().__init__(server, f"app-{index}", "app", server.close_inbox.__len__)
        self.access_lines: list[str] = []
        self.caches = ResponseCaches()  # this thread's own (see ResponseCaches: free-threaded builds)
        # This thread's requests by stage (METRICS=on), written only by this thread (see request_log.py).
        self.request_log = RequestLog(self.name, max(20, 1000 // max(1, server.settings.app_threads)))

    def loop(self) -> None:
        pool = self.server.app_pool
        work = pool.work
        popleft = work.popleft
        stats = self.stats
        timer = LoopTimer(stats, self.server.metrics_on)
        clock = time.perf_counter
        started = None  # when the item in progress started (for the pool's seconds-per-item average)
        fault_points = faults.ACTIVE
        while self.running:
            if fault_points:
                faults.hit("app.loop")
            # Drain the shared deque without sleeping; sleep (pool.take) only when it is empty.
            try:
                task = popleft()
            except IndexError:
                task = None
            if task is not None:
                if not work:
                    pool.signal_drained()
                now = clock()
                if started is not None:
                    service = pool.service
                    pool.service = service + (now - started - service) * 0.125
                started = now
            else:
                if self.access_lines:
                    self.server.access_log.write(self.access_lines)
                    self.access_lines = []
                if started is not None:
                    service = pool.service
                    pool.service = service + (clock() - started - service) * 0.125
                timer.waiting()
                task = pool.take()
                if task is None:  # woken by stop()
                    break
                timer.busy()
                started = clock()
            try:
                if fault_points:
                    faults.hit("app.task")
                if type(task) is Request:
                    self.drive(task.conn, task, None)
                else:  # a Connection whose parked response can continue
                    self.drive(task, None, task.response)
            except BaseException:  # a bug of ours (the app's errors are handled in drive)
                self.drop(task.conn if type(task) is Request else task)
        if self.access_lines:
            self.server.access_log.write(self.access_lines)

    def wake(self) -> None:
        self.server.app_pool.stop_one()

    def drop(self, conn) -> None:
        """Handling a request raised where nothing else caught it: log it, close the connection."""
        self.stats.errors += 1
        LOG.error("internal error in %s (connection dropped):\n%s", self.name, _traceback_text().rstrip())
        try:
            response = conn.response
            conn.response = None
            if response is not None:
                response.close_result()
        except BaseException:  # the app's close() must not stop the cleanup
            pass
        with conn.lock:
            conn.eof = True  # nothing more will be read or written: no lingering close needed
            conn.parked = False
        self.server.close_inbox.put(conn)

    def drive(self, conn, request: Request | None, response: Response | None) -> None:
        """Runs requests of one connection until it is parked, idle, or closed."""
        while True:
            if response is None:
                response = self.begin_request(conn, request)
                if response is None:  # the app failed after sending part of a response: connection cut
                    return
            try:
                done = response.run()
            except ClientGone:
                self.abort(conn, response)
                return
            except BaseException:  # the app's iterable raised (or our framing refused it)
                if not self.fail(conn, response):
                    return
                try:
                    done = response.run()  # now only the 500 page is left to send
                except Exception:
                    self.abort(conn, response)
                    return
            if not done:
                self.park(conn, response)
                return
            conn.response = None
            if not self.finish(conn, response):
                return
            request = self.next_request(conn, response)
            if request is None:
                return
            response = None

    def begin_request(self, conn, request: Request) -> Response | None:
        server = self.server
        keep_alive = request.keep_alive and not server.draining
        response = Response(conn, request, keep_alive, server.send_timeout, self.caches)
        if server.metrics_on:
            response.app_began = time.monotonic()
        if request.error is not None:
            error = request.error
            if error.status >= 500:  # the server's own trouble (503: no room for a body), not the client's
                LOG.warning("request from %s answered %d: %s", conn.addr[0], error.status, error.detail)
            response.replace(error.status, simple_response(error.status, f"{error.status} {error.detail}"))
            self.stats.errors += 1
            return response
        base = server.base_environ  # replaced (not changed) on a config reload
        cached = conn.environ
        if cached is None or cached[0] is not base:
            cached = conn.environ = (base, connection_environ(base, conn.addr))
        environ = build_environ(cached[1], request)
        try:
            result = server.app(environ, response.start_response)
            response.begin(result)
        except BaseException:  # whatever the app raises, SystemExit too, is its request's 500
            if not self.fail(conn, response):
                return None
        return response

    def fail(self, conn, response: Response) -> bool:
        """The app raised: log the traceback, answer 500 if nothing was sent yet. False: connection lost."""
        self.stats.errors += 1
        request = response.request
        note = _app_error_note()
        LOG.error(
            "app error on %s %s%s:\n%s", request.method, request.target, note, _traceback_text().rstrip()
        )
        try:
            response.close_result()
        except BaseException:  # the app's close()
            LOG.error("error in the app's close():\n%s", _traceback_text().rstrip())
        if response.bytes_sent:
            self.abort(conn, response)  # the head is out: the only honest signal left is cutting it short
            return False
        response.replace(500, simple_response(500, "500 Internal Server Error (see the server log)"))
        return True

    def park(self, conn, response: Response) -> None:
        conn.response = response
        with conn.lock:
            conn.parked = True
            if response.bytes_sent != conn.parked_bytes:  # progress since the last park: a new stall starts
                conn.parked_bytes = response.bytes_sent
                conn.parked_since = time.monotonic()
            conn.update_events()

    def finish(self, conn, response: Response) -> bool:
        """Response fully sent: close the iterable, log, count. False if the connection is being closed."""
        try:
            response.close_result()
        except BaseException:  # the app's close()
            self.stats.errors += 1
            LOG.error("error in the app's close():\n%s", _traceback_text().rstrip())
        request = response.request
        stats = self.stats
        stats.items += 1
        if self.server.metrics_on:
            now = time.monotonic()
            stats.record_response(response.status_code, response.bytes_sent, now - request.start)
            self.log_request(conn, request, response, now)
        access_log = self.server.access_log
        if access_log.fmt != "off":  # the `enabled` property, inlined (per request)
            self.access_lines.append(
                access_log.line(request, conn.addr[0], response.status_code, response.body_bytes)
            )
        return True

    def log_request(self, conn, request: Request, response: Response, now: float) -> None:
        """The request's record (see request_log.py): what is at hand, in the record's order; the stage times
        are worked out only when someone looks. The connection's handoff goes to its first request only."""
        handoff = conn.handoff
        if handoff:
            conn.handoff = 0.0
        log = self.request_log
        refused = request.error is not None
        path = "(refused)" if refused else request.path
        log.add(
            (
                log.next_seq(),
                time.time(),
                conn.number,
                self.name,
                "-" if refused else request.method,
                path,
                route_of(path),
                response.status_code,
                request.size,
                response.bytes_sent,
                handoff,
                request.began,
                request.start,
                response.app_began or request.start,
                response.first_out or now,
                now,
                request.headers,
                None if refused else response.headers,
            )
        )

    def next_request(self, conn, response: Response) -> Request | None:
        if not response.keep_alive:
            done = response.request
            # The client asked to close (Connection: close, or HTTP/1.0) and its request was read whole: the
            # close thread may close at once instead of lingering for more input (see close_thread.py).
            conn.client_done = done.error is None and not done.keep_alive
            self.server.close_inbox.put(conn)
            return None
        with conn.lock:
            if conn.pending:
                request = conn.pending.popleft()
                if conn.read_paused and len(conn.pending) < 4:
                    conn.read_paused = False
                    conn.update_events()
                return request
            eof = conn.eof
            conn.busy = eof  # idle again, or (the client is gone) claimed for closing: one store
            conn.last_active = time.monotonic()  # the keep-alive clock starts now
            if conn.read_paused:
                conn.read_paused = False
                conn.update_events()
        if eof:
            self.server.close_inbox.put(conn)
        return None

    def abort(self, conn, response: Response) -> None:
        """The client is gone (or a response cannot be finished): clean up and drop the connection."""
        try:
            response.close_result()
        except BaseException:  # the app's close()
            LOG.error("error in the app's close():\n%s", _traceback_text().rstrip())
        conn.response = None
        with conn.lock:
            conn.eof = True  # nothing more will be read or written: no lingering close needed
        self.server.close_inbox.put(conn)

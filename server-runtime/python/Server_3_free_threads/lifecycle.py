"""The life of a server process, one module for both ways to run: the single server (startup.py -> server.py)
and the WORKERS=N master (workers.py). Whatever the two do alike is here, once:

- `MainLoop`: the main thread. The stop and reload requests (`stop_requests`, `reload_requested`), the
  signal handlers that only set them (SIGTERM/SIGINT: stop, SIGHUP: reload; see signals.py for why the main
  thread is woken through a pipe), and the poll loop over the wake-ups and the caller's own descriptors.
- The messages the life-cycle sends on the control channel, built from the schema (contract.message):
  `ready_message`, `error_message`, `stopping` (with systemd's STOPPING=1), `reloaded`.
- `StartupError`: a failure before serving, with its exit code (contract.EXIT), the lines to print and its
  "error" message; `open_listener` turns "address in use" into one with the one port-in-use text.
- `start_stats`: the STATS endpoint (served by the single server, or by the master for all its workers).

Exit codes come from contract.EXIT (control_schema.json) by name; no module writes one as a number.
This module imports only what both paths need: the master process never imports the request pipeline.
"""

from __future__ import annotations

import errno
import math
import os
import select
import signal
import socket
import sys
import time

from . import contract, systemd
from .handoff import Wakeup
from .logs import LOG
from .signals import SignalWakeup

EXIT = contract.EXIT


def python_version() -> str:
    """platform.python_version() without importing platform (~0.1 MB of idle RSS): the version is the first
    word of sys.version, which is what platform parses it from."""
    return sys.version.split()[0]


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# ---- startup failures and the listening socket ----


class AddressInUse(Exception):
    pass


class StartupError(Exception):
    """A failure before serving: `exit_name` names its exit code in contract.EXIT (its "error" kind is that
    code's kind), `lines` are printed on stderr, the first one is the control message's `message`."""

    def __init__(
        self,
        exit_name: str,
        lines: list[str],
        traceback_text: str = "",
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        self.exit_code = EXIT[exit_name]
        self.kind = contract.EXIT_KIND[self.exit_code]
        super().__init__(lines[0] if lines else self.kind)
        self.lines = lines
        self.traceback_text = traceback_text
        self.file = file
        self.line = line

    def message_dict(self) -> dict:
        message = self.lines[0] if self.lines else self.kind
        return error_message(self.kind, message, self.traceback_text, self.file, self.line)


def bind(host: str, port: int, backlog: int | None = None, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to HOST:PORT, listening when `backlog` is given (None: bound only, the WORKERS
    master's reservation of the port, which gets no connections). Raises AddressInUse, or OSError."""
    # An ASCII host goes in as bytes: for a str, getaddrinfo encodes it with the idna codec, whose import
    # (encodings.idna, stringprep, unicodedata) costs ~0.4 MB of idle RSS. The config only allows ASCII hosts.
    name = host.encode("ascii") if host.isascii() else host
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    last_error: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)  # with SO_REUSEPORT: fails if anyone without it holds the port
            if backlog is not None:
                sock.listen(backlog)
            return sock
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                raise AddressInUse(f"{host}:{port} is already in use (another server runs there?)") from None
            last_error = error
    raise last_error or OSError(f"cannot listen on {host}:{port}")


def open_listener(host: str, port: int, backlog: int | None = None, reuse_port: bool = False):
    """`bind`, each failure a StartupError (port-in-use, or other)."""
    try:
        return bind(host, port, backlog, reuse_port)
    except AddressInUse as error:
        raise StartupError(
            "addressInUse", [f"{error}; free the port or set another PORT (or --port N)"]
        ) from None
    except OSError as error:
        raise StartupError("other", [f"cannot listen on {host}:{port}: {error}"]) from None


# ---- control-channel messages (one builder each, from the schema) ----


def ready_message(host: str, port: int, python: str, gil: bool, threads: list, workers: int) -> dict:
    return contract.message(
        "ready",
        url=url_of(host, port),
        host=host,
        port=port,
        pid=os.getpid(),
        python=python,
        gil=gil,
        threads=threads,
        workers=workers,
    )


def error_message(kind, message, traceback_text="", file=None, line=None, thread=None) -> dict:
    """An "error" message; `line` only goes with a `file`, empty values are left out."""
    return contract.message(
        "error",
        kind=kind,
        message=message,
        traceback=traceback_text or None,
        file=file or None,
        line=line if file else None,
        thread=thread,
    )


def send(control, message: dict) -> None:
    """To the supervisor, when there is one (--control-fd)."""
    if control is not None:
        control.send(message)


def announce_ready(control, message: dict) -> None:
    """The ready line, then the control channel starts reading commands and streaming metrics."""
    if control is not None:
        control.send(message)
        control.start()


def stopping(control, tell_supervisor: bool = True) -> None:
    """A stop begins: systemd hears STOPPING=1 and the supervisor a "stopping" message."""
    systemd.notify("STOPPING=1")
    if tell_supervisor:
        send(control, contract.message("stopping"))


def reloaded(control) -> None:
    send(control, contract.message("reloaded"))


# ---- STATS ----


def start_stats(settings, snapshots, readiness, request_logs):
    """The STATS endpoint when the config sets one (None otherwise, or when it cannot be served: logged).
    `snapshots()` gives the metrics snapshots to serve, `readiness()` the /ready state, `request_logs()` the
    request logs (/requests)."""
    if not settings.stats:
        return None
    from .stats_http import StatsServer

    try:
        stats = StatsServer(settings.stats, snapshots, readiness, request_logs)
        stats.start()
    except (OSError, ValueError) as error:
        LOG.error("STATS=%s: cannot serve stats: %s", settings.stats, error)
        return None
    return stats


# ---- the main thread ----


class MainLoop:
    """The main thread of a server process until a stop: signals and supervisor commands only set the flags
    and wake it; `run` does the work. `watch(fd, on_readable)` adds a descriptor (the master's worker
    channels); `on_readable()` returns an exit code to end the loop with, or None."""

    def __init__(self) -> None:
        self.stop_requests = 0  # the first ends run(); the second ends DRAIN_DELAY early (serve_on)
        self.reload_requested = False
        self._wakeup = Wakeup()
        self._signal_wakeup = None  # a SignalWakeup from run() on
        self._poller = select.poll()
        self._handlers: dict = {}

    def install_signal_handlers(self, stop=None) -> None:
        """SIGTERM/SIGINT call `stop` (default: request_stop), SIGHUP requests a reload."""
        stop = stop or self.request_stop
        signal.signal(signal.SIGTERM, lambda *_: stop())
        signal.signal(signal.SIGINT, lambda *_: stop())
        signal.signal(signal.SIGHUP, lambda *_: self.request_reload())

    @property
    def stop_requested(self) -> bool:
        return self.stop_requests > 0

    def request_stop(self) -> None:
        self.stop_requests += 1
        self._wakeup.wake()

    def request_reload(self) -> None:
        self.reload_requested = True
        self._wakeup.wake()

    def watch(self, fd: int, on_readable) -> None:
        self._handlers[fd] = on_readable
        self._poller.register(fd, select.POLLIN)

    def unwatch(self, fd: int) -> None:
        self._poller.unregister(fd)
        del self._handlers[fd]

    def run(self, reload, every_second=None) -> int:
        """Polls until a stop is requested (returns EXIT["clean"]) or a watched descriptor's handler returns
        an exit code. `reload()` runs on SIGHUP; `every_second()`, when given, at least once a second."""
        self._signal_wakeup = SignalWakeup()
        self._poller.register(self._wakeup.fd, select.POLLIN)
        self._poller.register(self._signal_wakeup.fd, select.POLLIN)
        timeout = 1000 if every_second is not None else None
        while not self.stop_requested:
            code = self._poll_once(timeout, every_second)
            if code is not None:
                return code
            if self.reload_requested and not self.stop_requested:
                self.reload_requested = False
                reload()
        return EXIT["clean"]

    def serve_on(self, seconds: float, every_second=None) -> None:
        """After `run` returned on a stop request: go on polling (the pipeline keeps serving) for `seconds`
        more, or until another stop request (a second SIGTERM/SIGINT, or the supervisor going away). This is
        DRAIN_DELAY: the time a balancer polling /ready needs to stop sending before the drain closes its
        pooled connections. Only the single server uses it, which watches no descriptor (no exit codes); a
        SIGHUP meanwhile is ignored."""
        deadline = time.monotonic() + seconds
        while self.stop_requests < 2:  # the first one ended run(); counted, as signals may come before it
            left = deadline - time.monotonic()
            if left <= 0:
                return
            # ceil: poll() takes whole milliseconds, and a timeout rounded down would wake early and spin
            self._poll_once(min(1000, math.ceil(left * 1000)), every_second)

    def _poll_once(self, timeout: int | None, every_second) -> int | None:
        """One wait for a wake-up: runs the handlers of readable descriptors (the first exit code one returns
        is returned), then `every_second`."""
        for fd, _ in self._poller.poll(timeout):
            handler = self._handlers.get(fd)
            if handler is not None:
                code = handler()
                if code is not None:
                    return code
        self._signal_wakeup.drain()  # the Python handlers have run by now
        self._wakeup.consume()
        if every_second is not None:
            every_second()
        return None

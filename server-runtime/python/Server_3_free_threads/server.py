"""Builds the four-stage pipeline, runs it, and handles its life: startup line, signals, graceful stop,
reload.

    accept thread --read_inbox--> read thread --app_pool--> app threads (APP_THREADS) --close_inbox--> close
                                       ^-------- parked responses / keep-alive go back --------'

SIGTERM/SIGINT (or EOF on the control channel): stop accepting (the listening socket closes at once), let
in-flight requests finish while idle keep-alive connections are closed, and exit 0 when no connection is
left or SHUTDOWN_TIMEOUT has passed. SIGHUP: re-read the config and re-import the app; requests already
running finish with the old app; a broken config or app keeps the old one running (and says why).
Signals are only noted by their handlers; the main thread does the work, woken through an eventfd.

A stage that dies ends the process with EXIT_STAGE_DIED (see stage.py): `stage_died` logs the cause and
tells the supervisor, and the main thread checks every second that every stage is alive (`watch_stages`).
`health()` says whether every stage runs and none is stuck; the snapshot and STATS /health publish it.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import socket
import sys
import threading
import time

from . import app_loader, systemd
from .accept_thread import AcceptThread
from .app_thread import AppThread
from .cli import EXIT_STAGE_DIED
from .close_thread import CloseThread
from .handoff import AppPool, Inbox, Wakeup
from .logs import LOG, AccessLog
from .metrics import snapshot
from .read_thread import ReadThread, gil_enabled
from .signals import SignalWakeup
from .wsgi import base_environ


def python_version() -> str:
    """platform.python_version() without importing platform (~0.1 MB of idle RSS): the version is the first
    word of sys.version, which is what platform parses it from."""
    return sys.version.split()[0]


class AddressInUse(Exception):
    pass


# Descriptors kept for the server's own files (listener, epolls, eventfds, pipes, logs, STATS, the app's own
# files and temporary files of large bodies) when MAX_CONNECTIONS is derived from the open-file limit.
def descriptor_reserve(limit: int) -> int:
    return max(16, min(64, limit // 4))


def connection_limit(configured: int) -> tuple[int, int | None]:
    """(connections the server may hold, the open-file limit when it lowered MAX_CONNECTIONS, else None).
    Every connection is a descriptor: past RLIMIT_NOFILE accept() fails with EMFILE, and so would the
    temporary file of a large body or the app's own files, so the limit leaves a reserve for those."""
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured, None
    usable = max(1, soft - descriptor_reserve(soft))
    if configured <= usable:
        return configured, None
    return usable, soft


# An accept/read/close thread busy this long without waiting again is reported stuck (tests shorten it).
STUCK_SECONDS = float(os.environ.get("SERVER3_STUCK_SECONDS", "10"))


def bind_listener(host: str, port: int, backlog: int, reuse_port: bool = False) -> socket.socket:
    """The listening socket. Raises AddressInUse, or OSError with a readable message."""
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
            sock.bind(address)
            sock.listen(backlog)
            return sock
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                raise AddressInUse(f"{host}:{port} is already in use (another server runs there?)") from None
            last_error = error
    raise last_error or OSError(f"cannot listen on {host}:{port}")


class Server:
    def __init__(
        self,
        settings,
        app,
        listener: socket.socket,
        *,
        config_path=None,
        port_override=None,
        control=None,
        worker: int = 0,
        workers: int = 1,
    ) -> None:
        self.settings = settings
        self.send_timeout = settings.send_timeout
        self.app = app
        self.listener = listener
        self.config_path = config_path
        self.port_override = port_override
        self.control = control
        self.worker = worker
        self.workers = workers
        self.host, self.port = listener.getsockname()[:2]
        self.metrics_on = bool(settings.metrics)
        self.max_connections = self.settle_connection_limit(settings)
        # Read per request by the app threads: a plain attribute (Settings goes through __getattr__).
        self.send_timeout = settings.send_timeout
        self.access_log = AccessLog(settings.access_log)
        self.base_environ = base_environ(settings.domain, self.port)
        self.app_pool = AppPool(settings.app_threads, gil_enabled())
        self.read_inbox = Inbox()
        self.close_inbox = Inbox()
        self.draining = False
        # Readiness, for load balancers and orchestrators (STATS /ready, systemd's READY=1): False until the
        # pipeline runs, False again from the moment a stop is asked for, before the drain closes anything.
        self.ready = False
        self.started = time.monotonic()
        self._main_wakeup = Wakeup()
        self._stop_requested = False
        self._reload_requested = False
        self._all_closed = threading.Event()
        self._stopping = False
        self._watch: dict[str, tuple[int, float]] = {}  # thread name -> (wake-ups seen, since when)
        self.accept_thread = AcceptThread(self, listener)
        self.read_thread = ReadThread(self)
        self.app_threads = [AppThread(self, i + 1) for i in range(settings.app_threads)]
        self.close_thread = CloseThread(self)

    # ---- pipeline ----

    @property
    def threads(self) -> list:
        return [self.accept_thread, self.read_thread, *self.app_threads, self.close_thread]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    @staticmethod
    def settle_connection_limit(settings) -> int:
        from .config import FIELDS

        limit, nofile = connection_limit(settings.max_connections)
        if nofile is not None:
            # The default is lowered quietly (an info line); a value the user chose, with a warning.
            say = (
                LOG.info if settings.max_connections == FIELDS["MAX_CONNECTIONS"]["default"] else LOG.warning
            )
            say(
                "MAX_CONNECTIONS %d is more than the open-file limit (ulimit -n = %d) allows: using %d "
                "(raise the limit, e.g. LimitNOFILE= in a systemd unit, to hold more connections)",
                settings.max_connections,
                nofile,
                limit,
            )
        return limit

    def connections_open(self) -> int:
        return self.accept_thread.accepted - self.close_thread.closed_count

    def on_connection_closed(self) -> None:
        """Called by the close thread after each close."""
        if self.accept_thread.paused:  # at MAX_CONNECTIONS: a slot is free again
            self.accept_thread.wakeup.wake()
        if self.draining and self.connections_open() <= 0:
            self._all_closed.set()

    def requests_snapshot(self, last: int = 200) -> dict:
        """The request log (see request_log.py): recent and slowest requests by stage, the per-route table."""
        from .request_log import requests_snapshot

        logs = [t.request_log for t in self.app_threads]
        snap = requests_snapshot(logs, self.close_thread.linger_log, last)
        snap["worker"] = self.worker
        snap["pid"] = os.getpid()
        return snap

    def request_detail(self, thread: str, seq: int) -> dict | None:
        from .request_log import detail

        return detail([t.request_log for t in self.app_threads], thread, seq)

    def snapshot(self) -> dict:
        snap = snapshot(
            [t.stats for t in self.threads],
            self.started,
            self.worker,
            self.accept_thread.accepted,
            self.close_thread.closed_count,
            self.health(),
        )
        snap["ready"] = self.ready
        return snap

    # ---- readiness: whether a load balancer should send requests here ----

    def readiness(self) -> str:
        """ "serving" (ready), "starting" or "draining" (not ready): STATS /ready."""
        if self._stopping:
            return "draining"
        return "serving" if self.ready else "starting"

    def mark_ready(self) -> None:
        """Called once the pipeline runs and the ready line is out. A stop asked for meanwhile wins."""
        if not self._stopping:
            self.ready = True
            systemd.notify("READY=1")

    # ---- health: every stage alive and none stuck ----

    def health(self) -> dict:
        """{"status": "ok" | "failing", "problems": [one line each]}: for STATS /health and the views."""
        problems = []
        for thread in self.threads:
            state = thread.stats.state
            if state == "dead" or (not thread.is_alive() and state != "stopped" and thread.ident is not None):
                problems.append(f"the {thread.name} thread is not running")
            elif thread.stats.role != "app" and state == "busy":
                seen = self._watch.get(thread.name)
                if seen is not None and time.monotonic() - seen[1] >= STUCK_SECONDS:
                    problems.append(
                        f"the {thread.name} thread is stuck (busy for {STUCK_SECONDS:.0f} s or more)"
                    )
        return {"status": "failing" if problems else "ok", "problems": problems}

    def watch_stages(self) -> None:
        """Main thread, every second: a stage whose thread ended while the server was not stopping is a dead
        stage (ends the process); a stage that has been busy without waiting again is noted for health()."""
        now = time.monotonic()
        for thread in self.threads:
            if not thread.is_alive() and not self._stopping and thread.stats.state != "dead":
                self.stage_died(thread.name, "the thread ended although the server was not stopping")
            wakeups = thread.stats.wakeups
            seen = self._watch.get(thread.name)
            if seen is None or seen[0] != wakeups or thread.stats.state != "busy":
                self._watch[thread.name] = (wakeups, now)

    def stage_died(self, name: str, traceback_text: str) -> None:
        """A pipeline thread cannot go on: say which and why, then end the process (see stage.py). Called from
        the dying thread; never returns. A timer guarantees the exit within a second even if the log or the
        control channel blocks."""
        deadline = threading.Thread(target=_exit_after, args=(1.0,), name="exit", daemon=True)
        deadline.start()
        lines = traceback_text.strip().splitlines()
        message = f"the {name} thread died ({lines[-1] if lines else 'unknown error'})"
        try:
            LOG.error(
                "%s; the server cannot serve without it: exiting with code %d so that it is restarted\n%s",
                message,
                EXIT_STAGE_DIED,
                traceback_text.rstrip(),
            )
            if self.control is not None:
                self.control.send(
                    {
                        "type": "error",
                        "kind": "stage-died",
                        "message": message,
                        "thread": name,
                        "traceback": traceback_text,
                    }
                )
        finally:
            os._exit(EXIT_STAGE_DIED)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def ready_message(self) -> dict:
        return {
            "type": "ready",
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "pid": os.getpid(),
            "python": python_version(),
            "gil": gil_enabled(),
            "threads": [t.name for t in self.threads],
            "workers": self.workers,
        }

    def log_startup(self) -> None:
        LOG.info(
            "Server_3_free_threads listening on %s (Python %s, GIL %s, threads: %s%s)",
            self.url,
            python_version(),
            "on" if gil_enabled() else "off",
            ", ".join(t.name for t in self.threads),
            f", worker {self.worker} of {self.workers}" if self.workers > 1 else "",
        )

    # ---- main loop: signals, stop, reload ----

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self.request_stop())
        signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        signal.signal(signal.SIGHUP, lambda *_: self.request_reload())

    def request_stop(self) -> None:
        self.ready = False  # first: a balancer polling /ready stops sending while the drain runs
        self._stop_requested = True
        self._stopping = True
        self._main_wakeup.wake()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._main_wakeup.wake()

    def serve_until_stopped(self) -> int:
        """Runs in the main thread until a stop; returns the exit code."""
        signal_wakeup = SignalWakeup()
        poller = select.poll()
        poller.register(self._main_wakeup.fd, select.POLLIN)
        poller.register(signal_wakeup.fd, select.POLLIN)
        while not self._stop_requested:
            poller.poll(1000)  # at least once a second: watch_stages
            signal_wakeup.drain()  # the Python handlers have run by now
            self._main_wakeup.consume()
            self.watch_stages()
            if self._reload_requested and not self._stop_requested:
                self._reload_requested = False
                try:
                    self.reload()
                except Exception as error:  # whatever the new config or app does, the old one keeps serving
                    LOG.error("reload failed, keeping the running config and app: %s", error)
                    self._send_error("other", f"reload failed: {error}")
        return self.stop()

    def stop(self) -> int:
        self.ready = False
        self._stopping = True
        systemd.notify("STOPPING=1")
        settings = self.settings
        LOG.info("stopping: no new connections; in-flight requests get up to %s s", settings.shutdown_timeout)
        if self.control is not None:
            self.control.send({"type": "stopping"})
        self.accept_thread.stop()
        self.accept_thread.join(2.0)
        self.draining = True
        if self.connections_open() <= 0:
            self._all_closed.set()
        self.read_inbox.wakeup.wake()
        finished = self._all_closed.wait(settings.shutdown_timeout)
        if not finished:
            for conn in list(self.read_thread.connections.values()):
                if not conn.closed:
                    LOG.info(
                        "still open: %s busy=%s parked=%s eof=%s pending=%d idle=%s",
                        conn.addr,
                        conn.busy,
                        conn.parked,
                        conn.eof,
                        len(conn.pending),
                        conn.parser.idle,
                    )
            LOG.warning(
                "SHUTDOWN_TIMEOUT passed with %d connection(s) open: closing them", self.connections_open()
            )
        self.read_thread.stop()
        self.close_thread.stop()
        for thread in self.app_threads:
            thread.stop()
        self.read_thread.join(2.0)
        self.close_thread.join(3.0)
        for thread in self.app_threads:
            thread.join(0.5)
        self.read_thread.close_all()
        LOG.info("stopped")
        return 0

    def reload(self) -> None:
        from .config import ConfigError, load_config

        LOG.info("SIGHUP: reloading config and app")
        settings = self.settings
        if self.config_path is not None:
            try:
                settings = load_config(self.config_path)
            except (ConfigError, OSError) as error:
                LOG.error("reload: config has problems, keeping the running config and app:\n%s", error)
                self._send_error(
                    "config-invalid", str(error).splitlines()[0] if str(error) else "config error"
                )
                return
        try:
            app_loader.forget_user_modules()
            app = app_loader.load_app(settings.app, settings.app_callable, app_loader.config_dir_of(settings))
        except app_loader.AppImportError as error:
            LOG.error("reload: %s; keeping the running app\n%s", error.message, error.traceback_text)
            self._send_error("app-import", error.message, error.traceback_text, error.file, error.line)
            return
        port = self.port_override or settings.port
        if settings.host != self.settings.host or port != self.port:
            LOG.warning("reload: HOST/PORT changes take effect after a restart (still on %s)", self.url)
        if settings.app_threads != len(self.app_threads) or settings.workers != self.settings.workers:
            LOG.warning("reload: APP_THREADS/WORKERS changes take effect after a restart")
        self.settings = settings
        self.max_connections = self.settle_connection_limit(settings)
        self.send_timeout = settings.send_timeout
        self.app = app
        self.access_log.fmt = settings.access_log
        self.base_environ = base_environ(settings.domain, self.port)
        LOG.info("reloaded: APP=%s", settings.app)
        if self.control is not None:
            self.control.send({"type": "reloaded"})

    def _send_error(self, kind, message, traceback_text="", file=None, line=None) -> None:
        if self.control is None:
            return
        message_dict = {"type": "error", "kind": kind, "message": message}
        if traceback_text:
            message_dict["traceback"] = traceback_text
        if file:
            message_dict["file"] = file
            message_dict["line"] = line
        self.control.send(message_dict)


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(EXIT_STAGE_DIED)

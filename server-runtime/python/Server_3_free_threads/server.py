"""Builds the four-stage pipeline, runs it, and handles its life: startup line, signals, graceful stop,
reload.

    accept thread --read_inbox--> read thread --app_pool--> app threads (APP_THREADS) --close_inbox--> close
                                       ^-------- parked responses / keep-alive go back --------'

SIGTERM/SIGINT (or EOF on the control channel): STATS /ready answers 503 at once; the server serves as
usual for DRAIN_DELAY more seconds (0 by default; a second signal cuts it short), so that a balancer polling
/ready stops sending first; then the drain: stop accepting (the listening socket closes at once), let
in-flight requests finish while idle keep-alive connections are closed, and exit 0 when no connection is
left or SHUTDOWN_TIMEOUT has passed. SIGHUP: re-read the config and re-import the app; requests already
running finish with the old app; a broken config or app keeps the old one running (and says why).
Signals are only noted by their handlers; the main thread does the work (lifecycle.MainLoop, shared with the
WORKERS master).

A stage that dies ends the process with exit code EXIT["stageDied"] (see stage.py): `stage_died` logs the
cause and tells the supervisor, and the main thread checks every second that every stage is alive
(`watch_stages`). `health()` says whether every stage runs and none is stuck; the snapshot and STATS
/health publish it.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from . import app_loader, lifecycle, systemd
from .accept_thread import AcceptThread
from .app_thread import AppThread
from .close_thread import CloseThread
from .handoff import AppPool, Inbox
from .lifecycle import EXIT, MainLoop, python_version
from .logs import LOG, AccessLog
from .metrics import snapshot
from .read_thread import ReadThread, gil_enabled
from .wsgi import base_environ


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
        self.life = MainLoop()  # the stop and reload flags, the signals, the main thread's loop
        self._all_closed = threading.Event()
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

        found = detail([t.request_log for t in self.app_threads], thread, seq)
        if found is not None:
            found["worker"] = (
                self.worker
            )  # with WORKERS>1, thread + seq name a request within one worker only
        return found

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
        if self.life.stop_requested:
            return "draining"
        return "serving" if self.ready else "starting"

    def mark_ready(self) -> None:
        """Called once the pipeline runs and the ready line is out. A stop asked for meanwhile wins."""
        if not self.life.stop_requested:
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
            if not thread.is_alive() and not self.draining and thread.stats.state != "dead":
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
                EXIT["stageDied"],
                traceback_text.rstrip(),
            )
            lifecycle.send(
                self.control, lifecycle.error_message("stage-died", message, traceback_text, thread=name)
            )
        finally:
            os._exit(EXIT["stageDied"])

    @property
    def url(self) -> str:
        return lifecycle.url_of(self.host, self.port)

    def ready_message(self) -> dict:
        threads = [t.name for t in self.threads]
        python, gil = python_version(), gil_enabled()
        return lifecycle.ready_message(self.host, self.port, python, gil, threads, self.workers)

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
        self.life.install_signal_handlers(self.request_stop)

    def request_stop(self) -> None:
        self.ready = False  # first: a balancer polling /ready stops sending while the drain runs
        self.life.request_stop()

    def serve_until_stopped(self) -> int:
        """Runs in the main thread until a stop (signals: lifecycle.MainLoop); returns the exit code."""
        self.life.run(self.guarded_reload, every_second=self.watch_stages)  # ends in request_stop
        lifecycle.stopping(self.control)
        delay = self.settings.drain_delay
        if delay > 0:
            LOG.info(
                "stop asked for: /ready answers 503; serving %s s more (DRAIN_DELAY) before the drain,"
                " or until the signal comes again",
                delay,
            )
            self.life.serve_on(delay, every_second=self.watch_stages)
        return self.stop()

    def guarded_reload(self) -> None:
        try:
            self.reload()
        except Exception as error:  # whatever the new config or app does, the old one keeps serving
            LOG.error("reload failed, keeping the running config and app: %s", error)
            lifecycle.send(self.control, lifecycle.error_message("other", f"reload failed: {error}"))

    def stop(self) -> int:
        """The drain (see the module's docstring); returns the exit code."""
        self.ready = False
        settings = self.settings
        LOG.info("stopping: no new connections; in-flight requests get up to %s s", settings.shutdown_timeout)
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
        return EXIT["clean"]

    def reload(self) -> None:
        from .config import ConfigError, load_config

        LOG.info("SIGHUP: reloading config and app")
        settings = self.settings
        if self.config_path is not None:
            try:
                settings = load_config(self.config_path)
            except (ConfigError, OSError) as error:
                LOG.error("reload: config has problems, keeping the running config and app:\n%s", error)
                first = str(error).splitlines()[0] if str(error) else "config error"
                lifecycle.send(self.control, lifecycle.error_message("config-invalid", first))
                return
        try:
            app_loader.forget_user_modules()
            app = app_loader.load_app(settings.app, settings.app_callable, app_loader.config_dir_of(settings))
        except app_loader.AppImportError as error:
            LOG.error("reload: %s; keeping the running app\n%s", error.message, error.traceback_text)
            message = lifecycle.error_message(
                "app-import", error.message, error.traceback_text, error.file, error.line
            )
            lifecycle.send(self.control, message)
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
        lifecycle.reloaded(self.control)


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(EXIT["stageDied"])

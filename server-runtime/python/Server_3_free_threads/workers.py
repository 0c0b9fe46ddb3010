"""WORKERS=N: a small supervisor ("master") process running N server processes that share the port through
SO_REUSEPORT (the kernel spreads new connections over them), so an app uses every core under the GIL.

- The master reserves the port first (bound with SO_REUSEPORT, never listening, so it gets no connections):
  `--port 0` then means one ephemeral port for all workers, and "address in use" is found before any
  worker starts (exit code EXIT["addressInUse"]).
- Each worker is `python -m Server_3_free_threads --config ... --port P --worker-index i --control-fd N`,
  with a socketpair to the master as its control channel. A worker whose master dies sees EOF and stops.
- The master relays on its own control channel (see control.py): one "ready" once every worker is ready,
  each worker's "metrics" and "requests" lines as they come (whole lines, one locked write each, so they never
  interleave; each carries its worker index and pid), "requestDetail" answers, "reloaded"/"error" lines.
  Supervisor commands are forwarded to every worker, but a requestDetail naming a worker goes to that worker
  only (thread + seq name a request within one worker).
- SIGTERM/SIGINT: stop the workers gracefully (each serves on for DRAIN_DELAY, then drains in-flight
  requests; a second signal is passed on and cuts the delay short) and exit 0. SIGHUP: every
  worker reloads. A worker that fails at startup stops the master with the worker's exit code; a worker that
  dies later is restarted (given up after 5 quick failures in a row).
- STATS, when set, is served by the master from the workers' latest snapshots and request logs (the workers
  stream both to it every second while STATS is set); /ready is the master's own
  word: 200 once every worker was ready and while one serves, 503 from the start of a stop.
- A listening socket passed by systemd (LISTEN_FDS, see systemd.py) replaces the reserved port: the master
  keeps it open and every worker accepts on the same socket (its descriptor passed down, named by
  SERVER3_LISTEN_FD), so a worker that restarts, or the whole service, drops no connection.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from . import lifecycle, systemd
from .lifecycle import EXIT, MainLoop, StartupError
from .logs import LOG


class _Worker:
    def __init__(self, index: int) -> None:
        self.index = index
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.ready: dict | None = None
        self.started = 0.0
        self.quick_failures = 0
        self.last_error: dict | None = None
        self.last_metrics: dict | None = None
        self.last_requests: dict | None = None


class Master:
    def __init__(
        self, args, settings, config_path: str, reserved: socket.socket, control, inherited: bool = False
    ) -> None:
        self.args = args
        self.settings = settings
        self.config_path = config_path
        self.reserved = reserved  # the reserved port, or the inherited listening socket the workers share
        self.inherited = inherited
        self.host, self.port = reserved.getsockname()[:2]
        self.control = control
        self.workers = [_Worker(i) for i in range(settings.workers)]
        self.life = MainLoop()  # the stop and reload flags, the signals, the main thread's loop
        self.announced = False
        self._lock = threading.Lock()

    # ---- supervisor commands ----

    def _relays(self, stream: str) -> bool:
        """Whether the supervisor asked for this stream ("metrics" or "requests")."""
        return self.control is not None and self.control.intervals.get(stream, 0) > 0

    def worker_stream_command(self, stream: str) -> bytes:
        """Workers stream metrics and request logs while the supervisor asks, or every second for STATS."""
        interval_ms = self.control.intervals[stream] * 1000 if self.control is not None else 0
        if not interval_ms and self.settings.stats:
            interval_ms = 1000
        return (json.dumps({"cmd": stream, "intervalMs": interval_ms}) + "\n").encode()

    def forward_command(self, message: dict, line: bytes) -> None:
        cmd = message.get("cmd")
        if cmd in ("metrics", "requests"):
            data = self.worker_stream_command(cmd)
        else:
            data = line.rstrip(b"\n") + b"\n"
        target = message.get("worker") if cmd == "requestDetail" else None
        for worker in self.workers:
            if target is None or worker.index == target:
                self._send_to(worker, data)

    def _send_to(self, worker: _Worker, data: bytes) -> None:
        if worker.sock is None:
            return
        try:
            worker.sock.sendall(data)
        except OSError:
            pass

    def snapshots(self) -> list[dict]:
        return [w.last_metrics for w in self.workers if w.last_metrics is not None]

    def request_logs(self) -> list[dict]:
        return [w.last_requests for w in self.workers if w.last_requests is not None]

    def readiness(self) -> str:
        """STATS /ready: "serving" once all workers were ready and while one of them runs, else "starting"
        (also while every worker restarts) or "draining" (from the moment a stop is asked for)."""
        if self.life.stop_requested:
            return "draining"
        serving = any(
            w.ready is not None and w.proc is not None and w.proc.poll() is None for w in self.workers
        )
        return "serving" if self.announced and serving else "starting"

    # ---- workers ----

    def spawn(self, worker: _Worker) -> None:
        ours, theirs = socket.socketpair()
        command = [
            sys.executable, "-m", "Server_3_free_threads",
            "--config", self.config_path,
            "--port", str(self.port),
            "--worker-index", str(worker.index),
            "--control-fd", str(theirs.fileno()),
        ]  # fmt: skip
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)  # the master alone speaks to systemd
        pass_fds = [theirs.fileno()]
        if self.inherited:
            env[systemd.WORKER_FD_VARIABLE] = str(self.reserved.fileno())
            pass_fds.append(self.reserved.fileno())
        worker.proc = subprocess.Popen(command, pass_fds=pass_fds, stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        worker.sock = ours
        self.life.watch(ours.fileno(), lambda: self.on_readable(worker))
        worker.buffer = b""
        worker.ready = None
        worker.started = time.monotonic()
        for stream in ("metrics", "requests"):
            if self._relays(stream) or self.settings.stats:
                self._send_to(worker, self.worker_stream_command(stream))

    def on_line(self, worker: _Worker, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        kind = message.get("type")
        if kind == "ready":
            worker.ready = message
            worker.quick_failures = 0
        elif kind == "metrics":
            worker.last_metrics = {k: v for k, v in message.items() if k != "type"}
            if self._relays("metrics"):
                self.control.send_raw(line + b"\n")
        elif kind == "requests":
            worker.last_requests = {k: v for k, v in message.items() if k != "type"}
            if self._relays("requests"):
                self.control.send_raw(line + b"\n")
        elif kind == "requestDetail" and self.control is not None:
            self.control.send_raw(line + b"\n")
        elif kind == "error":
            worker.last_error = message
            if self.control is not None and self.announced:
                self.control.send_raw(line + b"\n")
        elif kind == "reloaded" and self.control is not None and worker.index == 0:
            self.control.send_raw(line + b"\n")

    def on_exit(self, worker: _Worker) -> int | None:
        """A worker's channel closed. Returns an exit code when the master must stop."""
        code = worker.proc.wait() if worker.proc is not None else 1
        worker.sock.close()
        worker.sock = None
        if self.life.stop_requested:
            return None
        if not self.announced:
            LOG.error("worker %d failed to start (exit code %s)", worker.index, code)
            if self.control is not None and worker.last_error is not None:
                self.control.send(worker.last_error)
            passed_on = (EXIT["configInvalid"], EXIT["appImport"], EXIT["addressInUse"])
            return code if code in passed_on else EXIT["other"]
        quick = time.monotonic() - worker.started < 1.0
        worker.quick_failures = worker.quick_failures + 1 if quick else 0
        if worker.quick_failures >= 5:
            LOG.error("worker %d keeps dying (exit code %s): giving up", worker.index, code)
            return EXIT["other"]
        LOG.warning(
            "worker %d (pid %s) exited with code %s: restarting it", worker.index, worker.proc.pid, code
        )
        self.spawn(worker)
        return None

    # ---- main loop ----

    def run(self) -> int:
        self.life.install_signal_handlers()
        if self.control is not None:
            self.control.on_line = self.forward_command
            self.control.on_eof = self.life.request_stop
            self.control.on_fatal = _control_failed
        for worker in self.workers:
            self.spawn(worker)
        code = self.life.run(self.reload)
        self.shutdown()
        return code

    def reload(self) -> None:
        LOG.info("SIGHUP: reloading %d workers", len(self.workers))
        self.signal_workers(signal.SIGHUP)

    def signal_workers(self, signum: int) -> None:
        for worker in self.workers:
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signum)

    def on_readable(self, worker: _Worker) -> int | None:
        """The worker's control channel has lines, or closed (the worker exited): an exit code ends the
        master."""
        try:
            chunk = worker.sock.recv(262144)
        except OSError:
            chunk = b""
        if not chunk:
            self.life.unwatch(worker.sock.fileno())
            return self.on_exit(worker)
        worker.buffer += chunk
        while b"\n" in worker.buffer:
            line, _, worker.buffer = worker.buffer.partition(b"\n")
            if line.strip():
                self.on_line(worker, line)
        if not self.announced and all(w.ready for w in self.workers):
            self.announce()
        return None

    def announce(self) -> None:
        self.announced = True
        first = self.workers[0].ready
        # The workers' GIL, not the master's: they import the app, whose extension modules may turn it on.
        gil = any(w.ready.get("gil", True) for w in self.workers)
        python = first.get("python") or lifecycle.python_version()
        LOG.info(
            "Server_3_free_threads master (pid %d) on %s with %d workers (Python %s, GIL %s)",
            os.getpid(),
            lifecycle.url_of(self.host, self.port),
            len(self.workers),
            python,
            "on" if gil else "off",
        )
        threads = first.get("threads", [])
        message = lifecycle.ready_message(self.host, self.port, python, gil, threads, len(self.workers))
        lifecycle.announce_ready(self.control, message)
        systemd.notify("READY=1")

    def shutdown(self) -> None:
        lifecycle.stopping(self.control, tell_supervisor=self.life.stop_requested)
        self.signal_workers(signal.SIGTERM)
        # A second SIGTERM/SIGINT reaches the workers too: it ends their DRAIN_DELAY (server.py).
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.signal_workers(signal.SIGTERM))
        deadline = time.monotonic() + float(self.settings.drain_delay + self.settings.shutdown_timeout) + 5
        for worker in self.workers:
            if worker.proc is None:
                continue
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                LOG.warning("worker %d did not stop in time: killing it", worker.index)
                worker.proc.kill()
                worker.proc.wait()
            if worker.sock is not None:
                worker.sock.close()
        self.reserved.close()
        LOG.info("master stopped")


def _control_failed(text: str) -> None:
    """The master's control channel thread failed: without it the master would outlive its supervisor. Its
    workers see their channels close when it exits, and stop."""
    LOG.error("the control channel thread died; exiting with code %d:\n%s", EXIT["stageDied"], text.rstrip())
    os._exit(EXIT["stageDied"])


def run_master(args, settings, config_path, port, control, inherited: socket.socket | None = None) -> int:
    if config_path is None:
        raise StartupError("configInvalid", ["WORKERS needs a config file"])
    # The reserved port (bound, never listening) or the socket systemd passed.
    reserved = inherited
    if reserved is None:
        reserved = lifecycle.open_listener(settings.host, port, reuse_port=True)
    master = Master(args, settings, config_path, reserved, control, inherited is not None)
    stats = lifecycle.start_stats(settings, master.snapshots, master.readiness, master.request_logs)
    try:
        return master.run()
    finally:
        if stats is not None:
            stats.stop()

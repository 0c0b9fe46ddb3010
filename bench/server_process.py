"""Starts one server in its own process group on a free loopback port, waits until it answers, stops it."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from peers import App, Server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get_ok(port: int, path: str = "/", timeout_s: float = 2.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            return s.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


class RunningServer:
    """Context manager: `with RunningServer(...) as srv:` gives srv.port and srv.pid; always cleans up."""

    def __init__(self, server: Server, app: App, processes: int, threads: int, scratch: Path, log_dir: Path):
        self.server, self.app, self.processes, self.threads = server, app, processes, threads
        self.scratch, self.log_dir = scratch, log_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = log_dir / f"{server.name}-{app.name}-p{processes}-t{threads}-{self.port}.log"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, ready_timeout_s: float = 30.0) -> str:
        """Returns "" once the server answers HTTP, otherwise why it did not (and it is stopped again)."""
        launch = self.server.launch(self.app, self.port, self.processes, self.threads, self.scratch)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                launch.argv,
                cwd=launch.cwd,
                env=launch.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session (and so process group: stop() kills workers and children too). On kernels
                # with sched_autogroup (this one) a session is also a CPU scheduling group: the server
                # competes with wrk as a whole, like a service in its own cgroup, not thread by thread with
                # wrk's threads. Measured both ways (see README): in wrk's group ours lost half at 1 process
                # (Connection: close 6.5k vs 12.4k req/s) and gained at 2 (hello 58-65k vs 22-30k).
                start_new_session=True,
            )
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with {self.proc.returncode} before answering: {self.log_tail()}"
            if http_get_ok(self.port):
                # Pre-fork servers may answer from one worker while others still boot: give them a moment.
                time.sleep(0.3 if self.processes == 1 else 1.0)
                return ""
            time.sleep(0.1)
        self.stop()
        return f"did not answer within {ready_timeout_s:.0f}s: {self.log_tail()}"

    def log_tail(self) -> str:
        try:
            lines = [x for x in self.log_path.read_text(errors="replace").splitlines() if x.strip()]
        except OSError:
            return ""
        return " | ".join(lines[-3:])[:300]

    def stop(self, grace_s: float = 5.0):
        if not self.proc or self.proc.poll() is not None and not _group_alive(self.proc.pid):
            return
        _signal_group(self.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and _group_alive(self.proc.pid):
            self.proc.poll()
            time.sleep(0.05)
        _signal_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def _signal_group(pgid: int, sig: int):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False

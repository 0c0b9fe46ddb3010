"""Fixtures: start the real server (`python -m Server_3_free_threads`) as a child process on a free port,
with a config and an app from tests/apps/, and talk to it with real clients.

The server gets `--port 0` (the kernel picks a free port) and `--control-fd`, one end of a socketpair, so the
fixture learns the port from the runtime's "ready" line, exactly as the VS Code supervisor does. Every server
runs in its own process group and is killed with its group at the end of the test.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
PYTHON_DIR = TESTS_DIR.parent
REPO_DIR = PYTHON_DIR.parent.parent
if str(PYTHON_DIR) not in sys.path:  # test_parser.py imports the runtime's parser directly
    sys.path.insert(0, str(PYTHON_DIR))
BASE_CONFIG = "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=128\nDOMAIN=testserver.local\n"


def server_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if extra:
        env.update(extra)
    return env


class RunningServer:
    def __init__(self, proc: subprocess.Popen, control: socket.socket, workdir: Path, logs: Path) -> None:
        self.proc = proc
        self.control = control
        self.workdir = workdir
        self.logs = logs
        self.messages: list[dict] = []
        self._pending = b""
        self.ready: dict = {}
        self.port = 0
        self.host = "127.0.0.1"

    # ---- control channel ----

    def read_message(self, timeout: float = 10.0, want: str | None = None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._pending:
                line, _, self._pending = self._pending.partition(b"\n")
                message = json.loads(line)
                self.messages.append(message)
                if want is None or message.get("type") == want:
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {want or 'control'} message in {timeout} s; stderr:\n{self.stderr()}")
            self.control.settimeout(left)
            try:
                chunk = self.control.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise EOFError(f"control channel closed; stderr:\n{self.stderr()}")
            self._pending += chunk

    def send_command(self, message: dict) -> None:
        self.control.sendall((json.dumps(message) + "\n").encode())

    # ---- clients ----

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 10.0):
        """One request on a fresh connection: (status, headers dict lower-case, body bytes)."""
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def raw_socket(self, timeout: float = 10.0) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        return sock

    # ---- process ----

    def stderr(self) -> str:
        try:
            return (self.logs / "stderr.log").read_text(errors="replace")
        except OSError:
            return ""

    def stdout(self) -> str:
        try:
            return (self.logs / "stdout.log").read_text(errors="replace")
        except OSError:
            return ""

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        else:
            try:  # WORKERS children live in the same group
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.control.close()


def launch(workdir: Path, logs: Path, args: list[str], env: dict | None = None, control: bool = True):
    """Starts the runtime; returns (Popen, our end of the control socketpair or None)."""
    logs.mkdir(parents=True, exist_ok=True)
    ours = theirs = None
    pass_fds: tuple = ()
    if control:
        ours, theirs = socket.socketpair()
        pass_fds = (theirs.fileno(),)
        args = [*args, "--control-fd", str(theirs.fileno())]
    with open(logs / "stdout.log", "wb") as out, open(logs / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "Server_3_free_threads", *args],
            cwd=workdir,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            pass_fds=pass_fds,
            start_new_session=True,
        )
    if theirs is not None:
        theirs.close()
    return proc, ours


def start_server(
    tmp_path: Path,
    app: str = "apps.basic",
    config: str = "",
    workdir: Path = TESTS_DIR,
    env: dict | None = None,
    args: tuple = (),
    name: str = "server",
) -> RunningServer:
    """Writes a config (BASE_CONFIG + APP + `config`), starts the server and waits for its ready line."""
    config_path = tmp_path / f"{name}.config"
    config_path.write_text(BASE_CONFIG + f"APP={app}\n" + config)
    return serve_config(config_path, workdir, tmp_path / f"{name}-logs", env, args)


def serve_config(
    config_path: Path, workdir: Path, logs: Path, env: dict | None = None, args: tuple = ()
) -> RunningServer:
    """Starts the server on an existing config file, in `workdir`, and waits for its ready line."""
    proc, control = launch(workdir, logs, ["--config", str(config_path), "--port", "0", *args], env)
    server = RunningServer(proc, control, workdir, logs)
    server.config_path = config_path
    try:
        server.ready = server.read_message(timeout=15, want="ready")
    except Exception:
        server.kill()
        raise
    server.port = server.ready["port"]
    return server


@pytest.fixture
def server_factory(tmp_path):
    """Call it to start servers; all are killed (process group) after the test."""
    servers: list[RunningServer] = []

    def factory(**kwargs) -> RunningServer:
        server = start_server(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.kill()


@pytest.fixture(scope="module")
def basic_server(tmp_path_factory):
    """One shared server with tests/apps/basic.py (wrapped in wsgiref.validate) for a whole test module."""
    tmp_path = tmp_path_factory.mktemp("basic")
    server = start_server(tmp_path, app="apps.basic", config="APP_THREADS=4\nKEEPALIVE_TIMEOUT=5\n")
    yield server
    server.kill()
    assert "WSGIWarning" not in server.stderr(), server.stderr()


def recv_until_closed(sock: socket.socket, limit: int = 1 << 24) -> bytes:
    chunks = []
    total = 0
    while total < limit:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
        total += len(data)
    return b"".join(chunks)


class _SharedReader:
    """A socket's one buffered reader, lent to http.client without letting it close the reader."""

    def __init__(self, reader) -> None:
        self._reader = reader

    def __getattr__(self, name):
        return getattr(self._reader, name)

    def close(self) -> None:
        pass

    def makefile(self, *args, **kwargs):
        return self


class ResponseReader:
    """Reads consecutive responses (keep-alive, pipelining) from one raw socket with http.client's parser."""

    def __init__(self, sock: socket.socket) -> None:
        self.shared = _SharedReader(sock.makefile("rb"))

    def read(self, method: str = "GET") -> tuple[int, dict, bytes]:
        response = http.client.HTTPResponse(self.shared, method=method)
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def read_response(sock: socket.socket, method: str = "GET") -> tuple[int, dict, bytes]:
    """One response from a raw socket (use ResponseReader to read several from the same socket)."""
    return ResponseReader(sock).read(method)

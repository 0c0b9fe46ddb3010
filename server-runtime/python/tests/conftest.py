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
# The folder whose Server_3_free_threads package is tested: this tree's, or SERVER3_RUNTIME_DIR's (the
# mutation runner, scripts/mutation-python.py, tests a mutated copy: both the servers the tests start and the
# modules they import in-process must load it, and nothing from this tree).
RUNTIME_DIR = Path(os.environ.get("SERVER3_RUNTIME_DIR") or PYTHON_DIR).resolve()
if RUNTIME_DIR != PYTHON_DIR:
    sys.path.insert(0, str(RUNTIME_DIR))
elif str(PYTHON_DIR) not in sys.path:  # test_parser.py imports the runtime's parser directly
    sys.path.insert(0, str(PYTHON_DIR))
BASE_CONFIG = "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=128\nDOMAIN=testserver.local\n"

# SERVER3_EXPECT_GIL=0 (set by `scripts/test-python.sh --ft`) or 1: every "ready" message a test reads must
# say that GIL state, so the free-threaded run cannot silently test a server whose GIL came back on (an
# extension module without free-threading support re-enables it on import).
EXPECT_GIL = os.environ.get("SERVER3_EXPECT_GIL")
GIL_CHECKED = [0]  # ready messages checked, shown in the summary


def check_gil(message: dict) -> None:
    if EXPECT_GIL is None or message.get("type") != "ready":
        return
    expected = EXPECT_GIL not in ("0", "off", "false")
    if message.get("gil") is not expected:
        raise AssertionError(
            f"SERVER3_EXPECT_GIL={EXPECT_GIL}: the server (pid {message.get('pid')}, Python"
            f" {message.get('python')}) reports gil={message.get('gil')!r} in its ready message, expected"
            f" {expected}"
        )
    GIL_CHECKED[0] += 1


def gil_summary() -> str:
    """For the closing lines of a run (pytest_terminal_summary, at the end of this file)."""
    return (
        f"SERVER3_EXPECT_GIL={EXPECT_GIL}: {GIL_CHECKED[0]} server ready messages had the expected GIL state"
    )


def server_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(RUNTIME_DIR) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
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
        self.stopping = False  # a stop was asked for: the end-of-test serving check does not apply
        self.port = 0
        self.host = "127.0.0.1"

    # ---- control channel ----

    def read_message(self, timeout: float = 10.0, want: str | None = None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._pending:
                line, _, self._pending = self._pending.partition(b"\n")
                message = json.loads(line)
                check_gil(message)
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

    def snapshot(self, timeout: float = 10.0) -> dict:
        """One metrics snapshot over the control channel (asking starts a stream: it is stopped again)."""
        self.send_command({"cmd": "metrics", "intervalMs": 60000})
        try:
            return self.read_message(timeout, want="metrics")
        finally:
            self.send_command({"cmd": "metrics", "intervalMs": 0})

    def thread(self, role: str) -> dict:
        """The first thread with this role (accept, read, app, close) in a fresh snapshot."""
        return next(t for t in self.snapshot()["threads"] if t["role"] == role)

    def wait_all_closed(self, timeout: float = 10.0) -> int:
        """Waits until no client connection is open (or `timeout` passes); returns how many still are. Each
        close is counted when the close thread has closed the socket, so 0 also means none was leaked."""
        deadline = time.monotonic() + timeout
        while (open_now := self.snapshot()["totals"]["connectionsOpen"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        return open_now

    def assert_serving(self, timeout: float = 10.0) -> None:
        """The server is alive AND serving: a fresh connection gets an HTTP response and every stage runs.
        Every fixture checks this when its test is done, so no test can leave a half-dead server behind."""
        assert self.proc.poll() is None, (
            f"the server exited with {self.proc.returncode}:\n{self.stderr()[-3000:]}"
        )
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            sock.sendall(b"GET /__alive__ HTTP/1.1\r\nHost: check\r\nConnection: close\r\n\r\n")
            head = sock.recv(12)
        except OSError as error:
            raise AssertionError(f"the server does not answer ({error}):\n{self.stderr()[-3000:]}") from None
        finally:
            sock.close()
        assert head.startswith(b"HTTP/1.1 "), (head, self.stderr()[-3000:])
        if self.ready.get("workers", 1) > 1:
            return  # the master relays metrics only while streaming; its workers were just checked by the GET
        snap = self.snapshot(timeout)
        dead = [t["name"] for t in snap["threads"] if t["state"] == "dead"]
        assert not dead and snap["health"]["status"] == "ok", (snap["health"], dead)

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
        if signum in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            self.stopping = True
        self.proc.send_signal(signum)

    def close(self) -> None:
        """End of a fixture: check it was left serving (see check_left_serving), then kill it."""
        try:
            self.check_left_serving()
        finally:
            self.kill()

    def check_left_serving(self) -> None:
        """At the end of a test: a server that is still running must still be serving (see assert_serving)."""
        if self.stopping or self.proc.poll() is not None or self.control.fileno() == -1:
            return
        self.assert_serving()

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


def _limits_setter(rlimits: dict | None):
    """A preexec_fn that sets resource limits ({resource.RLIMIT_NOFILE: 128, ...}) in the child only."""
    if not rlimits:
        return None

    def set_limits() -> None:
        import resource

        for which, value in rlimits.items():
            _soft, hard = resource.getrlimit(which)
            resource.setrlimit(which, (value, hard))

    return set_limits


def launch(
    workdir: Path,
    logs: Path,
    args: list[str],
    env: dict | None = None,
    control: bool = True,
    rlimits: dict | None = None,
    python_args: tuple = (),
):
    """Starts the runtime; returns (Popen, our end of the control socketpair or None). `rlimits`: resource
    limits for the server process only (e.g. {resource.RLIMIT_NOFILE: 128}, as `ulimit -n 128` would);
    `python_args`: before `-m Server_3_free_threads` (e.g. `-m debugpy --listen ...`)."""
    logs.mkdir(parents=True, exist_ok=True)
    ours = theirs = None
    pass_fds: tuple = ()
    if control:
        ours, theirs = socket.socketpair()
        pass_fds = (theirs.fileno(),)
        args = [*args, "--control-fd", str(theirs.fileno())]
    with open(logs / "stdout.log", "wb") as out, open(logs / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, *python_args, "-m", "Server_3_free_threads", *args],
            cwd=workdir,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            pass_fds=pass_fds,
            start_new_session=True,
            preexec_fn=_limits_setter(rlimits),
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
    rlimits: dict | None = None,
) -> RunningServer:
    """Writes a config (BASE_CONFIG + APP + `config`), starts the server and waits for its ready line."""
    config_path = tmp_path / f"{name}.config"
    config_path.write_text(BASE_CONFIG + f"APP={app}\n" + config)
    return serve_config(config_path, workdir, tmp_path / f"{name}-logs", env, args, rlimits)


def serve_config(
    config_path: Path,
    workdir: Path,
    logs: Path,
    env: dict | None = None,
    args: tuple = (),
    rlimits: dict | None = None,
) -> RunningServer:
    """Starts the server on an existing config file, in `workdir`, and waits for its ready line."""
    args = ["--config", str(config_path), "--port", "0", *args]
    proc, control = launch(workdir, logs, args, env, rlimits=rlimits)
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
    try:
        for server in servers:
            server.check_left_serving()
    finally:
        for server in servers:
            server.kill()


@pytest.fixture(scope="module")
def basic_server(tmp_path_factory):
    """One shared server with tests/apps/basic.py (wrapped in wsgiref.validate) for a whole test module."""
    tmp_path = tmp_path_factory.mktemp("basic")
    server = start_server(tmp_path, app="apps.basic", config="APP_THREADS=4\nKEEPALIVE_TIMEOUT=5\n")
    yield server
    server.close()
    assert "WSGIWarning" not in server.stderr(), server.stderr()


def free_port() -> int:
    """A port free right now on 127.0.0.1 (for STATS and other addresses a test must name up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, method: str = "GET") -> tuple[int, bytes]:
    """(status, body) of one request on a fresh connection to 127.0.0.1:port (STATS paths, mostly)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


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


def pytest_terminal_summary(terminalreporter) -> None:
    """The fuzzing suites' case counts (the closing figure of a run: how much was fuzzed)."""
    if EXPECT_GIL is not None:
        terminalreporter.write_line(gil_summary())
    fuzzing = sys.modules.get("fuzzing")
    if fuzzing is not None and any(fuzzing.CASES.values()):
        counts = ", ".join(f"{n} {name} cases" for name, n in fuzzing.CASES.items())
        terminalreporter.write_line(f"fuzzing: {counts}, 0 failures unless reported above")

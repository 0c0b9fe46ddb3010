"""Socket activation and systemd notification (systemd.py): the server takes a listening socket passed as
systemd passes it (LISTEN_FDS=1, LISTEN_PID=its pid, descriptor 3) instead of binding HOST:PORT, also with
WORKERS>1 (every worker accepts on it); a restart loses no connection because the socket outlives the
process; a bad LISTEN_FDS is a clear startup error; READY=1 and STOPPING=1 reach NOTIFY_SOCKET."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from conftest import BASE_CONFIG, TESTS_DIR, free_port, server_env

# As systemd does it: the socket is descriptor 3 and LISTEN_PID is the pid of the process that reads the
# variables (this shim sets them, then execs into the server, which keeps its pid).
ACTIVATE = (
    "import os, sys\n"
    "fd = int(os.environ.pop('SERVER3_TEST_FD'))\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.environ.setdefault('LISTEN_FDS', '1')\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)


def _inheritable(pid: int, fd: int) -> bool:
    flags = open(f"/proc/{pid}/fdinfo/{fd}").read().split("flags:")[1].split()[0]
    return not int(flags, 8) & 0o2000000  # O_CLOEXEC


class Activated:
    """The server started on a listening socket this test holds, as a systemd .socket unit would."""

    def __init__(self, tmp_path, config: str = "", env: dict | None = None, listener=None) -> None:
        self.listener = listener or socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.listener.getsockname()[1]
        self.config_path = tmp_path / "activated.config"
        # PORT names a port nobody listens on: the inherited socket must win over it.
        self.config_path.write_text(BASE_CONFIG.replace("PORT=8000", "PORT=1") + "APP=apps.basic\n" + config)
        self.tmp_path = tmp_path
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.runs = 0

    def start(self) -> None:
        self.runs += 1
        fd = self.listener.fileno()
        env = server_env({"SERVER3_TEST_FD": str(fd), **self.env})
        self.log = self.tmp_path / f"stderr-{self.runs}.log"
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", ACTIVATE, "-m", "Server_3_free_threads"]
                + ["--config", str(self.config_path)],
                cwd=TESTS_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                pass_fds=(fd,),
                start_new_session=True,
            )

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.stderr():
            assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"no {text!r} in {timeout} s:\n{self.stderr()}"
            time.sleep(0.02)

    def get(self, path: str = "/pid", timeout: float = 10.0) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        elif self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def close(self) -> None:
        self.kill()
        self.listener.close()


@pytest.fixture
def activated(tmp_path):
    servers = []

    def factory(**kwargs) -> Activated:
        server = Activated(tmp_path, **kwargs)
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.close()


def test_the_server_accepts_on_the_inherited_socket_and_ignores_host_and_port(activated):
    server = activated()
    server.start()
    server.wait_for_log("listening on the socket passed by the supervisor (LISTEN_FDS)")
    server.wait_for_log(f"listening on http://127.0.0.1:{server.port}")
    status, body = server.get()
    assert status == 200 and int(body) == server.proc.pid
    # the variables are gone from the server's environment (its app's children must not take them)
    environ = json.loads(server.get("/os-environ")[1])
    assert not {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"} & set(environ)
    # and descriptor 3 is close-on-exec: a child process of the app does not hold the port
    assert os.stat(f"/proc/{server.proc.pid}/fd/3") and not _inheritable(server.proc.pid, 3)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0


def test_a_restart_on_the_held_socket_refuses_no_connection(activated):
    """The socket outlives the process: connections made while no server runs wait in its backlog and are
    served by the next one (with a socket the server binds itself, they would be refused)."""
    server = activated()
    server.start()
    server.wait_for_log("listening on http://")
    first = int(server.get()[1])
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(15) == 0
    results = []
    waiting = [threading.Thread(target=lambda: results.append(server.get(timeout=20))) for _ in range(5)]
    for thread in waiting:
        thread.start()  # no server runs: these connect (the kernel completes the handshake) and wait
    server.start()
    for thread in waiting:
        thread.join(30)
    assert len(results) == 5 and all(status == 200 for status, _ in results), results
    assert {int(body) for _, body in results} == {server.proc.pid} and server.proc.pid != first


def test_workers_share_the_inherited_socket(activated):
    stats = free_port()
    server = activated(config=f"WORKERS=2\nSTATS=127.0.0.1:{stats}\n")
    server.start()
    server.wait_for_log("master (pid")
    pids = set()
    deadline = time.monotonic() + 15
    while len(pids) < 2 and time.monotonic() < deadline:
        pids.add(int(server.get()[1]))
    assert len(pids) == 2 and server.proc.pid not in pids
    with urllib.request.urlopen(f"http://127.0.0.1:{stats}/ready", timeout=5) as reply:
        assert reply.status == 200 and json.loads(reply.read()) == {"ready": True, "state": "serving"}
    # a worker killed is restarted on the same socket; the others serve meanwhile
    victim = pids.pop()
    os.kill(victim, signal.SIGKILL)
    seen = set()
    deadline = time.monotonic() + 15
    while not (len(seen) == 2 and victim not in seen) and time.monotonic() < deadline:
        seen = {int(server.get()[1]) for _ in range(20)}
    assert len(seen) == 2 and victim not in seen, seen
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0


@pytest.mark.parametrize(
    "env, message",
    [
        ({"LISTEN_FDS": "2"}, "LISTEN_FDS=2: the server takes exactly one listening socket"),
        ({"LISTEN_FDS": "x"}, "LISTEN_FDS='x' is not a number of descriptors"),
    ],
)
def test_a_wrong_listen_fds_is_a_startup_error(tmp_path, env, message):
    server = Activated(tmp_path)
    try:
        fd = server.listener.fileno()
        proc = subprocess.run(
            [sys.executable, "-c", ACTIVATE, "-m", "Server_3_free_threads"]
            + ["--config", str(server.config_path)],
            cwd=TESTS_DIR,
            env=server_env({"SERVER3_TEST_FD": str(fd), **env}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            pass_fds=(fd,),
            timeout=30,
        )
        assert proc.returncode == 1 and message in proc.stderr.decode(), proc.stderr
    finally:
        server.close()


def test_a_descriptor_that_is_not_a_listening_socket_is_refused(tmp_path):
    unconnected = socket.socket()  # a TCP socket that does not listen
    server = Activated(tmp_path, listener=unconnected)
    try:
        server.start()
        assert server.proc.wait(30) == 1
        assert "descriptor 3 is not a listening TCP socket" in server.stderr()
    finally:
        server.close()


def test_listen_fds_for_another_process_is_ignored(server_factory):
    # LISTEN_PID names the parent (the variables were meant for it): bind HOST:PORT as usual.
    server = server_factory(env={"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid())})
    assert server.request("GET", "/")[0] == 200
    assert "LISTEN_FDS" not in server.stderr()


def test_ready_and_stopping_reach_the_notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(15)
    stats = free_port()
    server = Activated(tmp_path, config=f"STATS=127.0.0.1:{stats}\n", env={"NOTIFY_SOCKET": str(path)})
    try:
        server.start()
        assert receiver.recv(256) == b"READY=1"
        with urllib.request.urlopen(f"http://127.0.0.1:{stats}/ready", timeout=5) as reply:
            assert reply.status == 200  # READY=1 is sent once the server takes requests
        server.proc.send_signal(signal.SIGTERM)
        assert receiver.recv(256) == b"STOPPING=1"
        assert server.proc.wait(15) == 0
    finally:
        server.close()
        receiver.close()


def test_with_workers_only_the_master_notifies(tmp_path):
    path = tmp_path / "notify.sock"
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(path))
    receiver.settimeout(15)
    server = Activated(tmp_path, config="WORKERS=2\n", env={"NOTIFY_SOCKET": str(path)})
    try:
        server.start()
        assert receiver.recv(256) == b"READY=1"
        server.wait_for_log("master (pid")
        server.proc.send_signal(signal.SIGTERM)
        assert receiver.recv(256) == b"STOPPING=1"
        assert server.proc.wait(20) == 0
        receiver.settimeout(0.5)
        with pytest.raises(TimeoutError):  # no worker sent its own READY=1 or STOPPING=1
            receiver.recv(256)
    finally:
        server.close()
        receiver.close()


def test_notify_without_a_socket_or_with_a_dead_one_is_a_no_op(tmp_path, monkeypatch):
    from Server_3_free_threads import systemd

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", "relative/path")
    assert systemd.notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "nobody-listens"))
    assert systemd.notify("READY=1") is False
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"server3-test-{os.getpid()}"
    receiver.bind("\0" + name)  # the abstract namespace, written @name in NOTIFY_SOCKET
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("STOPPING=1") is True
        receiver.settimeout(5)
        assert receiver.recv(64) == b"STOPPING=1"
    finally:
        receiver.close()


@pytest.mark.skipif(
    shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate not here"
)
def test_systemd_socket_activate_starts_it(tmp_path):
    """systemd's own tool (the way a .socket unit passes the socket): it listens, and on the first
    connection execs the server with LISTEN_FDS=1; that first client is served."""
    port = free_port()
    config = tmp_path / "sa.config"
    config.write_text(BASE_CONFIG.replace("PORT=8000", "PORT=1") + "APP=apps.basic\n")
    with open(tmp_path / "sa.log", "wb") as err:
        proc = subprocess.Popen(
            # it passes the server no environment but what -E names
            ["systemd-socket-activate", "-l", f"127.0.0.1:{port}", "-E", "PYTHONPATH"]
            + [sys.executable, "-m"]
            + ["Server_3_free_threads", "--config", str(config)],
            cwd=TESTS_DIR,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 10
        while b"Listening on" not in (tmp_path / "sa.log").read_bytes():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pid", timeout=15) as reply:
            assert int(reply.read()) == proc.pid  # the tool exec'd into the server
        assert b"passed by the supervisor (LISTEN_FDS)" in (tmp_path / "sa.log").read_bytes()
    except urllib.error.URLError as error:
        raise AssertionError((tmp_path / "sa.log").read_text()) from error
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(15) == 0
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

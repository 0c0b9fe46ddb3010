"""Chaos: a fault injected into each stage in turn (SERVER3_FAULTS, see Server_3_free_threads/faults.py).

- A fault inside the handling of one connection (accept.item, read.event, app.task, close.item) costs that
  connection only: the server goes on serving, the connection is not leaked, the cause is logged.
- A fault in a stage's own loop (accept.loop, read.loop, app.loop, close.loop, control.loop) kills that
  stage: the process must then exit with code 5 within a second, say which thread died and why on stderr and
  on the control channel. Never alive-but-not-serving.
"""

import socket
import time

import pytest
from conftest import BASE_CONFIG, TESTS_DIR, RunningServer, launch, recv_until_closed
from Server_3_free_threads import contract

EXIT_STAGE_DIED = contract.EXIT["stageDied"]
CONFIG = BASE_CONFIG + "APP=apps.hostile\nAPP_THREADS=1\n"
THREAD_OF = {
    "accept.loop": "accept",
    "read.loop": "read",
    "app.loop": "app-1",
    "close.loop": "close",
    "control.loop": "control",
}


def poke(host: str, port: int) -> None:
    """One request on a fresh connection, whatever happens to it (the server may be dying)."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            sock.recv(100)
    except OSError:
        pass


@pytest.mark.parametrize("kind", ["RuntimeError", "MemoryError", "SystemExit", "KeyboardInterrupt"])
@pytest.mark.parametrize("point", sorted(THREAD_OF))
def test_a_fault_that_kills_a_stage_ends_the_process_within_a_second(tmp_path, point, kind):
    config = tmp_path / "chaos.config"
    config.write_text(CONFIG)
    # app.loop is passed once when the thread starts: @2 is after its first request.
    fault = f"{point}:{kind}@{2 if point == 'app.loop' else 1}"
    logs = tmp_path / "logs"
    proc, control = launch(
        TESTS_DIR, logs, ["--config", str(config), "--port", "0"], {"SERVER3_FAULTS": fault}
    )
    server = RunningServer(proc, control, TESTS_DIR, logs)
    try:
        ready = server.read_message(15, want="ready")
        died = None
        deadline = time.monotonic() + 20
        while died is None and time.monotonic() < deadline:
            poke("127.0.0.1", ready["port"])
            try:
                died = server.read_message(0.2, want="error")
            except (TimeoutError, EOFError):
                if proc.poll() is not None:
                    break
        assert died is not None, f"no stage-died message; stderr:\n{server.stderr()}"
        noticed = time.monotonic()
        code = proc.wait(5)
        # The bound is the point of the test (a dead stage must not leave the process up), so it is checked;
        # the message is sent just before os._exit, so the exit normally follows within milliseconds.
        assert time.monotonic() - noticed < 1.0
        assert code == EXIT_STAGE_DIED
        thread = THREAD_OF[point]
        assert died["kind"] == "stage-died" and died["thread"] == thread, died
        assert f"fault injected at {point}" in died["traceback"]
        last = server.stderr().strip().splitlines()
        died_lines = [line for line in last if f"the {thread} thread died" in line]
        assert died_lines and "exiting with code 5" in died_lines[0], server.stderr()
    finally:
        server.kill()


@pytest.mark.parametrize("point", ["accept.item", "read.event", "app.task", "close.item"])
def test_a_fault_in_one_connection_costs_only_that_connection(server_factory, point):
    server = server_factory(app="apps.hostile", env={"SERVER3_FAULTS": f"{point}@2"})
    answered = 0
    for _ in range(10):
        sock = server.raw_socket(timeout=5)
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            answered += data.startswith(b"HTTP/1.1 200 ")
        except OSError:
            pass
        finally:
            sock.close()
    assert answered >= 9, server.stderr()  # one connection may be lost, never the server
    assert "fault injected at " + point in server.stderr()
    role = point.split(".")[0]
    errors = sum(t["errors"] for t in server.snapshot()["threads"] if t["role"] == role)
    assert errors >= 1  # the thread counted the failure it survived (the views show it)
    assert server.wait_all_closed() == 0  # the dropped connection was closed and counted, not leaked
    # (the fixture then checks every stage still runs and a new client is served)


def test_a_fault_while_draining_a_lingering_connection_costs_only_that_connection(server_factory):
    # close.item@2: the first pass is the close of a refused request (it starts lingering), the second the
    # drain of the input its client sends after that: the close thread drops that connection and goes on.
    server = server_factory(app="apps.hostile", env={"SERVER3_FAULTS": "close.item@2"})
    sock = server.raw_socket(timeout=10)
    sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
    assert recv_until_closed(sock).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until it lingers: begin_close (the first pass) is over
        if server.thread("close")["queueDepth"] == 1:
            break
        time.sleep(0.02)
    try:
        sock.sendall(b"y" * 1000)  # wakes the drain, which faults
    except OSError:
        pass
    assert server.wait_all_closed() == 0  # dropped, closed and counted
    assert "fault injected at close.item" in server.stderr()
    assert server.thread("close")["errors"] == 1  # the internal error, counted once
    sock.close()
    assert server.request("GET", "/")[0] == 200  # the close thread lives on


CLOSE_SOCKET_CALLS = ["close.shutdown", "close.register", "close.unregister", "close.socket"]


@pytest.mark.parametrize("point", [*CLOSE_SOCKET_CALLS, None])
def test_a_socket_call_of_the_close_thread_that_fails_closes_its_connection_and_is_counted(
    server_factory, point
):
    # The close thread's own socket and epoll calls can fail without any bug of ours (a client that reset
    # meanwhile, the epoll watch limit): that connection is closed at once and counted in the thread's errors,
    # and it is no internal error. A refused request with input after it takes every one of those calls;
    # without a fault (None) the same connection counts no error.
    env = {"SERVER3_FAULTS": f"{point}:OSError"} if point else {}
    server = server_factory(app="apps.hostile", env=env)
    sock = server.raw_socket(timeout=10)
    sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
    # All of the 400, then the server's FIN: closing now is a FIN too (a close with unread input would be a
    # RST, and the server's shutdown() would then fail for real).
    assert recv_until_closed(sock).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # until it lingers (drained, registered), or is closed already
        snap = server.snapshot()
        close = next(t for t in snap["threads"] if t["role"] == "close")
        if close["queueDepth"] == 1 or snap["totals"]["connectionsOpen"] == 0:
            break
        time.sleep(0.02)
    sock.close()  # ends the linger, if there is one
    assert server.wait_all_closed() == 0  # closed and counted, not leaked
    close = server.thread("close")
    assert close["errors"] == (1 if point else 0), close  # the failure, once
    assert close["items"] == 1, close  # and the connection, once
    assert "internal error" not in server.stderr()
    assert server.request("GET", "/")[0] == 200


def test_a_fault_while_resuming_a_parked_response_whose_close_raises_costs_only_that_connection(
    server_factory,
):
    # The response parks on a client that does not read; when it resumes, the task faults (app.task@2: the
    # first task was the request itself), and dropping the connection calls the app's close(), which raises
    # too. That second error must not escape the app thread.
    server = server_factory(
        app="apps.hostile", env={"SERVER3_FAULTS": "app.task@2"}, config="APP_THREADS=1\n"
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((server.host, server.port))
    sock.sendall(b"GET /raise?kind=RuntimeError&when=close&kb=32768 HTTP/1.1\r\nHost: h\r\n\r\n")
    time.sleep(0.3)  # the server fills the socket and parks the response
    received = 0
    try:
        while chunk := sock.recv(65536):  # reading makes it writable: the resume faults, the connection drops
            received += len(chunk)
    except ConnectionResetError:
        pass
    sock.close()
    assert 0 < received < 32768 * 1024  # cut short
    assert "fault injected at app.task" in server.stderr()
    assert server.request("GET", "/")[0] == 200  # the only app thread is alive

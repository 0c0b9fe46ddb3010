"""WORKERS=N: N processes share the port via SO_REUSEPORT under a master that relays the control channel."""

import json
import signal
import socket
import time

from conftest import start_server


def pids_seen(server, attempts=60, tolerate_resets=False):
    import http.client

    pids = set()
    for _ in range(attempts):  # new connections spread over the workers
        try:
            pids.add(int(server.request("GET", "/pid")[2]))
        except (ConnectionResetError, http.client.RemoteDisconnected):
            # a killed worker's not-yet-accepted connections are reset by the kernel
            if not tolerate_resets:
                raise
    return pids


def test_two_workers_share_the_port(tmp_path):
    server = start_server(tmp_path, config="WORKERS=2\nAPP_THREADS=2\n")
    try:
        ready = server.ready
        assert ready["workers"] == 2 and ready["pid"] == server.proc.pid
        assert ready["threads"] == ["accept", "read", "app-1", "app-2", "close"]
        pids = pids_seen(server)
        assert len(pids) == 2 and server.proc.pid not in pids

        server.send_command({"cmd": "metrics", "intervalMs": 200})
        seen = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until both reported and the last response was counted
            snap = server.read_message(want="metrics")
            seen[snap["worker"]] = snap
            if len(seen) == 2 and sum(s["totals"]["requests"] for s in seen.values()) >= 60:
                break
        assert set(seen) == {0, 1}
        assert {s["pid"] for s in seen.values()} == pids
        assert sum(s["totals"]["requests"] for s in seen.values()) >= 60

        server.signal(signal.SIGTERM)
        assert server.read_message(want="stopping")["type"] == "stopping"
        assert server.wait(20) == 0
    finally:
        server.kill()


def test_a_crashed_worker_is_restarted(tmp_path):
    server = start_server(tmp_path, config="WORKERS=2\n")
    try:
        victim = next(iter(pids_seen(server)))
        import os

        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        pids = set()
        while time.monotonic() < deadline:
            pids = pids_seen(server, attempts=20, tolerate_resets=True)
            if len(pids) == 2 and victim not in pids:
                break
            time.sleep(0.2)
        assert len(pids) == 2 and victim not in pids
    finally:
        server.signal(signal.SIGTERM)
        server.wait(20)
        server.kill()


def test_worker_startup_failure_stops_the_master_with_its_exit_code(tmp_path):
    from conftest import launch

    config = tmp_path / "w.config"
    config.write_text(
        "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=10\nDOMAIN=localhost\nAPP=nosuch.app\nWORKERS=2\n"
    )
    proc, control = launch(tmp_path, tmp_path / "logs", ["--config", str(config), "--port", "0"])
    assert proc.wait(20) == 3
    control.settimeout(5)
    data = b""
    while chunk := control.recv(65536):
        data += chunk
    messages = [json.loads(line) for line in data.splitlines()]
    assert messages[-1]["type"] == "error" and messages[-1]["kind"] == "app-import"
    control.close()


def test_port_in_use_with_workers(tmp_path):
    from conftest import launch

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    config = tmp_path / "w.config"
    config.write_text("HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=10\nDOMAIN=localhost\nAPP=x\nWORKERS=2\n")
    try:
        proc, control = launch(
            tmp_path, tmp_path / "logs", ["--config", str(config), "--port", str(blocker.getsockname()[1])]
        )
        assert proc.wait(20) == 4
        control.close()
    finally:
        blocker.close()

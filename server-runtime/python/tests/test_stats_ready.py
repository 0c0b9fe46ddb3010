"""STATS for load balancers and Prometheus: /ready (200 serving; 503 starting, and draining from the moment
SIGTERM arrives while in-flight requests finish) apart from /health (every stage runs: stays 200 while
draining), HEAD answered like GET, and /metrics as one valid exposition with WORKERS>1 (one HELP/TYPE per
family, each worker's samples under it with its `worker` label)."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import signal
import subprocess
import threading
import time

import pytest
from conftest import free_port, launch
from conftest import http_get as get


def wait_for(check, timeout: float = 10.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def app_busy(stats_port: int) -> bool:
    snaps = json.loads(get(stats_port, "/stats")[1])
    return any(t["role"] == "app" and t["state"] == "busy" for s in snaps for t in s["threads"])


def test_ready_turns_503_when_the_drain_starts_while_health_stays_200(server_factory, tmp_path):
    stats = free_port()
    server = server_factory(config=f"STATS=127.0.0.1:{stats}\nSHUTDOWN_TIMEOUT=20\n")
    assert get(stats, "/ready") == (200, b'{"ready": true, "state": "serving"}')
    assert get(stats, "/health")[0] == 200
    assert get(stats, "/ready", "HEAD") == (200, b"")  # HEAD: same status, no body
    assert json.loads(get(stats, "/stats")[1])[0]["ready"] is True
    release = tmp_path / "release"
    results = []
    client = threading.Thread(target=lambda: results.append(server.request("GET", f"/hold?file={release}")))
    client.start()
    wait_for(lambda: app_busy(stats), what="the held request to reach an app thread")
    server.signal(signal.SIGTERM)
    server.read_message(want="stopping")
    # the request is still in flight (held until the file exists): not ready, yet healthy
    assert server.proc.poll() is None
    assert get(stats, "/ready") == (503, b'{"ready": false, "state": "draining"}')
    assert get(stats, "/health")[0] == 200
    text = get(stats, "/metrics")[1].decode()
    assert 'server3_ready{worker="0"} 0' in text and 'server3_healthy{worker="0"} 1' in text
    release.write_text("go")
    client.join(20)
    assert results and results[0][0] == 200 and results[0][2] == b"released"
    assert server.wait(10) == 0


def test_with_workers_ready_is_503_until_every_worker_serves(tmp_path):
    gate = tmp_path / "gate"
    stats = free_port()
    config = tmp_path / "w.config"
    config.write_text(
        "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=64\nDOMAIN=localhost\nAPP=apps.gated_import\n"
        f"WORKERS=2\nSTATS=127.0.0.1:{stats}\n"
    )
    from conftest import TESTS_DIR

    proc, control = launch(
        TESTS_DIR,
        tmp_path / "logs",
        ["--config", str(config), "--port", "0"],
        env={"SERVER3_TEST_IMPORT_GATE": str(gate)},
    )
    try:

        def ready_status():
            try:
                return get(stats, "/ready")
            except OSError:
                return None

        # the master serves STATS before its workers have imported the app
        assert wait_for(ready_status, what="STATS") == (503, b'{"ready": false, "state": "starting"}')
        assert get(stats, "/health")[0] == 503  # no worker has reported: not healthy either
        gate.write_text("go")
        wait_for(lambda: ready_status() == (200, b'{"ready": true, "state": "serving"}'), 20, "ready")
        # /metrics: both workers' snapshots (they report every second) in one valid exposition
        text = wait_for(
            lambda: (t := get(stats, "/metrics")[1].decode()).count("server3_info{") == 2 and t,
            what="both workers in /metrics",
        )
        check_exposition(text)
        for worker in ("0", "1"):
            assert f'server3_thread_busy_seconds_total{{worker="{worker}",thread="read",role="read"}}' in text
            assert f'process_resident_memory_bytes{{worker="{worker}"}}' in text
        if shutil.which("promtool"):  # Prometheus' own linter, when installed (scripts/setup.sh does)
            lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
            assert lint.returncode == 0, lint.stdout.decode() + lint.stderr.decode()
        proc.send_signal(signal.SIGTERM)
        assert wait_for(lambda: ready_status() in (None, (503, b'{"ready": false, "state": "draining"}')))
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        control.close()


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")


def check_exposition(text: str) -> dict[str, str]:
    """What Prometheus' text parser insists on: one HELP and one TYPE per family, before its samples, every
    sample of a family in one block, no series twice. Returns {family: type}."""
    types: dict[str, str] = {}
    series = set()
    current = None
    closed = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"second TYPE line for {name}"
            if current is not None:
                closed.add(current)
            types[name] = kind
            current = name
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match.group(1)
        family = name
        if types.get(current) == "histogram" and name in {current + s for s in ("_bucket", "_sum", "_count")}:
            family = current
        assert family == current and family not in closed, f"{name} outside its family's block"
        assert (name, match.group(2)) not in series, f"duplicate series {line!r}"
        series.add((name, match.group(2)))
        float(match.group(3))
    for name, kind in types.items():
        if kind == "counter":
            assert name.endswith("_total"), f"counter {name} without _total"
    return types


def test_prometheus_text_of_two_workers_is_one_family_each():
    from Server_3_free_threads.metrics import prometheus_text

    def snap(worker: int, busy: float) -> dict:
        return {
            "worker": worker,
            "python": "3.13.5",
            "gil": worker == 0,
            "ready": worker == 1,
            "processCpuSeconds": 1.5,
            "process": {"residentMemoryBytes": 1000, "openFds": 7, "startTimeSeconds": 1700000000.5},
            "threads": [
                {"name": 'a"b\\c\nd', "role": "app", "items": 1, "busySeconds": busy, "waitSeconds": 0.0,
                 "queueDepth": 0, "errors": 0, "cpuSeconds": 0.0},
            ],
            "totals": {
                "connectionsOpen": 0, "connectionsAccepted": 1, "requests": 2,
                "status": {"1xx": 0, "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 0}, "bytesIn": 3, "bytesOut": 4,
                "latency": {"boundsMs": [1, 10], "counts": [1, 0, 1], "sumSeconds": 0.25},
            },
        }  # fmt: skip

    text = prometheus_text([snap(0, 0.5), snap(1, 2.0)])
    types = check_exposition(text)
    assert types["server3_request_duration_seconds"] == "histogram"
    assert types["process_cpu_seconds_total"] == "counter" and types["server3_ready"] == "gauge"
    lines = text.splitlines()
    name = 'thread="a\\"b\\\\c\\nd"'  # label values escaped as the format requires
    assert f'server3_thread_busy_seconds_total{{worker="0",{name},role="app"}} 0.5' in lines
    assert f'server3_thread_busy_seconds_total{{worker="1",{name},role="app"}} 2.0' in lines
    assert 'server3_info{worker="0",version="0.3.0",python="3.13.5",gil="on"} 1' in lines
    assert 'server3_info{worker="1",version="0.3.0",python="3.13.5",gil="off"} 1' in lines
    assert 'server3_ready{worker="0"} 0' in lines and 'server3_ready{worker="1"} 1' in lines
    assert 'server3_request_duration_seconds_bucket{worker="1",le="0.01"} 1' in lines
    assert 'server3_request_duration_seconds_bucket{worker="1",le="+Inf"} 2' in lines
    assert 'server3_request_duration_seconds_sum{worker="1"} 0.25' in lines
    assert 'server3_request_duration_seconds_count{worker="1"} 2' in lines
    assert 'process_cpu_seconds_total{worker="0"} 1.5' in lines
    assert 'process_resident_memory_bytes{worker="1"} 1000' in lines
    assert 'process_start_time_seconds{worker="1"} 1700000000.5' in lines
    assert not [line for line in lines if line.startswith("process_max_fds")]  # not in the snapshot: none
    assert lines.count("# TYPE server3_thread_busy_seconds_total counter") == 1


def test_unknown_stats_path_is_404_and_names_the_paths(server_factory):
    stats = free_port()
    server_factory(config=f"STATS=127.0.0.1:{stats}\n")
    status, body = get(stats, "/nope")
    assert status == 404 and b"/ready" in body and b"/health" in body


def test_the_snapshot_has_the_process_block_and_the_latency_sum(server_factory):
    import os

    stats = free_port()
    server = server_factory(config=f"STATS=127.0.0.1:{stats}\n")
    assert server.request("GET", "/sleep?ms=50")[0] == 200
    snap = wait_for(
        lambda: (s := json.loads(get(stats, "/stats")[1])[0])["totals"]["requests"] == 1 and s, what="count"
    )
    assert 0.05 <= snap["totals"]["latency"]["sumSeconds"] < 5
    process = snap["process"]
    status = open(f"/proc/{server.proc.pid}/status").read()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    assert abs(process["residentMemoryBytes"] - rss_kb * 1024) < 4 << 20
    assert process["virtualMemoryBytes"] > process["residentMemoryBytes"]
    # the server's descriptors seen from outside, give or take the ones the STATS request itself opens
    assert abs(process["openFds"] - len(os.listdir(f"/proc/{server.proc.pid}/fd"))) <= 3
    soft_limit = int(re.search(r"Max open files\s+(\d+)", open(f"/proc/{server.proc.pid}/limits").read())[1])
    assert process["maxFds"] == soft_limit
    # the process started a little before the server did (imports): within the snapshot's uptime + 5 s
    server_started = snap["time"] - snap["uptimeSeconds"]
    assert server_started - 5 < process["startTimeSeconds"] <= server_started + 0.02, (process, snap)


def test_health_report_names_the_worker_only_when_there_are_several():
    from Server_3_free_threads.stats_http import health_report

    stuck = {"status": "failing", "problems": ["the close thread is stuck"]}
    assert health_report([{"worker": 0, "health": stuck}]) == {
        "status": "failing",
        "problems": ["the close thread is stuck"],
        "workers": 1,
    }
    report = health_report([{"worker": 0, "health": {"status": "ok"}}, {"worker": 1, "health": stuck}])
    assert report == {"status": "failing", "problems": ["worker 1: the close thread is stuck"], "workers": 2}
    assert health_report([{"worker": 3, "health": {"status": "failing"}}])["problems"] == ["failing"]
    assert health_report([])["status"] == "failing"
    # A snapshot without its worker number among several is named worker 0 (the master's own numbering).
    report = health_report([{"health": stuck}, {"worker": 1, "health": {"status": "ok"}}])
    assert report["problems"] == ["worker 0: the close thread is stuck"]


def test_ready_report_is_200_only_while_serving():
    from Server_3_free_threads.stats_http import ready_report

    assert ready_report("serving") == (200, {"ready": True, "state": "serving"})
    assert ready_report("starting") == (503, {"ready": False, "state": "starting"})
    assert ready_report("draining") == (503, {"ready": False, "state": "draining"})


def test_stats_paths_ignore_a_query_string(server_factory):
    stats = free_port()
    server_factory(config=f"STATS=127.0.0.1:{stats}\n")
    assert get(stats, "/ready?probe=kubelet") == (200, b'{"ready": true, "state": "serving"}')
    assert get(stats, "/ready?probe=kubelet", "HEAD") == (200, b"")
    status, body = get(stats, "/metrics?x=1")
    assert status == 200 and body.startswith(b"# HELP server3_")


def test_stats_head_sends_no_body_and_a_stuck_scrape_does_not_hold_a_stop(server_factory):
    import signal
    import socket

    stats = free_port()
    server = server_factory(config=f"STATS=127.0.0.1:{stats}\n")
    with socket.create_connection(("127.0.0.1", stats), timeout=5) as sock:
        sock.sendall(b"HEAD /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"Content-Length: 35" in head and body == b""
    # A scraper that sent half a request and went quiet: its handler thread waits on it for good, and a stop
    # must not wait for that thread.
    stuck = socket.create_connection(("127.0.0.1", stats), timeout=5)
    stuck.sendall(b"GET /sta")
    time.sleep(0.2)
    server.signal(signal.SIGTERM)
    assert server.wait(10) == 0
    stuck.close()


def test_stats_listens_on_ipv6_loopback(server_factory):
    stats = free_port()
    server_factory(config=f"STATS=[::1]:{stats}\n")
    conn = http.client.HTTPConnection("::1", stats, timeout=5)
    try:
        conn.request("GET", "/ready")
        response = conn.getresponse()
        assert (response.status, response.read()) == (200, b'{"ready": true, "state": "serving"}')
    finally:
        conn.close()


def test_parse_address_defaults_the_host_to_loopback_and_unbrackets_ipv6():
    from Server_3_free_threads.stats_http import parse_address

    assert parse_address(":9100") == ("127.0.0.1", 9100)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    assert parse_address("0.0.0.0:80") == ("0.0.0.0", 80)
    with pytest.raises(ValueError):
        parse_address("9100")

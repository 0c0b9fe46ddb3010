"""STATS /requests: the request log as JSON (one per worker process), the same records the editor's Requests
view gets over the control channel, without headers; and with WORKERS>1 the master relays every worker's
request log and sends a requestDetail to the worker that holds the request."""

from __future__ import annotations

import json
import time

from conftest import free_port, start_server
from test_stats_ready import get, wait_for


def logged(stats: int, path: str, count: int = 1):
    """The request logs once `count` records of `path` are in them (a record is added after its response)."""

    def check():
        status, body = get(stats, "/requests")
        assert status == 200
        logs = json.loads(body)
        seen = [r for log in logs for r in log["recent"] if r["path"] == path]
        return logs if len(seen) >= count else None

    return wait_for(check, what=f"{count} records of {path} in /requests")


def test_requests_endpoint_gives_the_request_log_without_headers(server_factory):
    stats = free_port()
    server = server_factory(config=f"STATS=127.0.0.1:{stats}\n")
    server.request("GET", "/users/123?token=t0ps3cret", headers={"Authorization": "Bearer s3cr3t"})
    logs = logged(stats, "/users/123")
    assert len(logs) == 1 and logs[0]["worker"] == 0 and logs[0]["pid"] == server.proc.pid
    record = next(r for r in logs[0]["recent"] if r["path"] == "/users/123")
    assert (
        record["route"] == "/users/{id}" and record["method"] == "GET" and record["thread"].startswith("app-")
    )
    assert {"handoffMs", "readMs", "queueMs", "appMs", "sendMs", "totalMs"} <= set(record)
    assert "/users/{id}" in [row["route"] for row in logs[0]["routes"]]
    # the query string is dropped and no header (secret or not) is served here
    assert b"t0ps3cret" not in get(stats, "/requests")[1] and b"s3cr3t" not in get(stats, "/requests")[1]
    assert "requestHeaders" not in record
    assert get(stats, "/requests?x=1")[0] == 200  # a query string is ignored, as on the other paths
    assert b"/requests" in get(stats, "/nope")[1]  # the 404 names it


def test_with_workers_every_workers_requests_reach_stats_and_the_supervisor(tmp_path):
    stats = free_port()
    server = start_server(tmp_path, config=f"WORKERS=2\nSTATS=127.0.0.1:{stats}\n")
    try:
        pids = set()
        for _ in range(60):  # new connections spread over the workers
            pids.add(int(server.request("GET", "/pid")[2]))
        assert len(pids) == 2
        logs = logged(stats, "/pid", 60)
        assert sorted(log["worker"] for log in logs) == [0, 1]
        assert {log["pid"] for log in logs} == pids
        assert all(any(r["path"] == "/pid" for r in log["recent"]) for log in logs)

        # the supervisor's stream: one line per worker, each with its worker index
        server.send_command({"cmd": "requests", "intervalMs": 200})
        seen = {}
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            log = server.read_message(want="requests")
            seen[log["worker"]] = log
        server.send_command({"cmd": "requests", "intervalMs": 0})
        assert set(seen) == {0, 1}

        # a detail goes to the worker named: worker 1's record comes back from worker 1
        record = next(r for r in seen[1]["recent"] if r["path"] == "/pid")
        server.send_command(
            {"cmd": "requestDetail", "worker": 1, "thread": record["thread"], "seq": record["seq"]}
        )
        detail = server.read_message(10, want="requestDetail")
        assert detail["worker"] == 1 and detail["seq"] == record["seq"] and detail["path"] == "/pid"
        assert detail["time"] == record["time"]
    finally:
        server.kill()

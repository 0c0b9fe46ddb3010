"""The optional STATS endpoint (STATS=host:port), on its own small thread (stdlib http.server), apart from
the request pipeline, so scraping never competes with client traffic for the pipeline's threads:

- GET /stats: a JSON list of metrics snapshots, one per worker process (the editor's shape, see metrics.py).
- GET /metrics: the same in the Prometheus text format, one family per metric with a `worker` label.
- GET /requests: a JSON list of request logs, one per worker process (request_log.py: the last requests with
  the time of each stage, the slowest of the current minute, the per-route table; no headers). Empty with
  METRICS=off.
- GET /health (liveness): 200 when every pipeline stage of every worker runs, 503 with the problems
  otherwise. A failing server should be restarted.
- GET /ready (readiness): 200 while the server takes requests, 503 before it is ready and from the moment a
  stop (SIGTERM) is asked for, while in-flight requests drain. A balancer should send requests only on 200.
  The two differ on purpose: a draining server is healthy (do not restart it) but not ready.

HEAD is answered as GET without the body (some health checkers use it)."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .metrics import prometheus_text


class _QuietServer(ThreadingHTTPServer):
    """http.server's bind does a reverse DNS lookup (getfqdn) of the address: skip it."""

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _IPv6Server(_QuietServer):
    address_family = socket.AF_INET6


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"STATS must be HOST:PORT, got {address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def health_report(snapshots: list[dict]) -> dict:
    """ok when every worker reported and all its stages run; the problems of each worker otherwise."""
    if not snapshots:
        return {"status": "failing", "problems": ["no worker has reported yet"]}
    problems = []
    for snap in snapshots:
        health = snap.get("health") or {}
        prefix = f"worker {snap.get('worker', 0)}: " if len(snapshots) > 1 else ""
        if health.get("status", "ok") != "ok":
            problems += [prefix + p for p in health.get("problems", [])] or [prefix + "failing"]
    return {"status": "failing" if problems else "ok", "problems": problems, "workers": len(snapshots)}


def ready_report(state: str) -> tuple[int, dict]:
    """(status code, body) of /ready for a readiness state: "serving", "starting" or "draining"."""
    return (200 if state == "serving" else 503), {"ready": state == "serving", "state": state}


class StatsServer:
    def __init__(self, address: str, snapshots, readiness=None, request_logs=None) -> None:
        """`snapshots`: a callable returning the list of snapshot dicts to publish; `readiness`: one returning
        "serving", "starting" or "draining" (None: always serving); `request_logs`: one returning the list of
        request logs (None: /requests is an empty list)."""
        host, port = parse_address(address)

        def answer(path: str) -> tuple[int, bytes, str]:
            if path in ("/stats", "/stats.json"):
                return 200, json.dumps(snapshots()).encode(), "application/json"
            if path in ("/requests", "/requests.json"):
                logs = request_logs() if request_logs is not None else []
                return 200, json.dumps(logs).encode(), "application/json"
            if path == "/metrics":
                return 200, prometheus_text(snapshots()).encode(), "text/plain; version=0.0.4; charset=utf-8"
            if path in ("/health", "/healthz"):
                report = health_report(snapshots())
                return (
                    (200 if report["status"] == "ok" else 503),
                    json.dumps(report).encode(),
                    "application/json",
                )
            if path in ("/ready", "/readyz"):
                code, report = ready_report(readiness() if readiness is not None else "serving")
                return code, json.dumps(report).encode(), "application/json"
            body = b"Server 3 stats: GET /stats, /requests (JSON), /metrics (Prometheus), /health, /ready\n"
            return 404, body, "text/plain"

        class Handler(BaseHTTPRequestHandler):
            server_version = "Server_3_free_threads-stats"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self.reply(*answer(self.path.split("?", 1)[0]))

            def do_HEAD(self) -> None:  # noqa: N802 - the http.server API
                self.reply(*answer(self.path.split("?", 1)[0]), head=True)

            def reply(self, status: int, body: bytes, kind: str, head: bool = False) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def log_message(self, format, *args) -> None:  # noqa: A002 - quiet: scrapes are not access log
                pass

        server_class = _IPv6Server if ":" in host else _QuietServer
        self.httpd = server_class((host, port), Handler)
        self.httpd.daemon_threads = True
        self.address = self.httpd.server_address
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="stats", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

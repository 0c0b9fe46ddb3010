"""The optional STATS endpoint (STATS=host:port): GET /stats gives a JSON list of metrics snapshots (one per
worker process), GET /metrics the same in Prometheus text format. It runs on its own small thread (stdlib
http.server), apart from the request pipeline, so scraping never competes with client traffic for the
pipeline's threads."""

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


class StatsServer:
    def __init__(self, address: str, snapshots) -> None:
        """`snapshots` is a callable returning the list of snapshot dicts to publish."""
        host, port = parse_address(address)

        class Handler(BaseHTTPRequestHandler):
            server_version = "Server_3_free_threads-stats"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                path = self.path.split("?", 1)[0]
                if path in ("/stats", "/stats.json"):
                    body = json.dumps(snapshots()).encode()
                    kind = "application/json"
                elif path == "/metrics":
                    body = "".join(prometheus_text(s) for s in snapshots()).encode()
                    kind = "text/plain; version=0.0.4; charset=utf-8"
                else:
                    body = b"Server 3 stats: GET /stats (JSON) or /metrics (Prometheus)\n"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
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

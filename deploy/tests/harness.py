"""What the deployment tests start and drive, all on 127.0.0.1 with ports from the kernel: Server 3 instances
(its own bind, or a listening socket this harness holds and passes as systemd does, LISTEN_FDS), HAProxy and
Prometheus from Debian (their configs made from the ones in deploy/), and a steady bounded load. Every
process runs in its own process group and is killed with it at the end."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = DEPLOY_DIR.parent
RUNTIME_DIR = REPO_DIR / "server-runtime" / "python"


def config_values(text: str) -> dict[str, str]:
    """KEY=VALUE lines of a server config (comments and blank lines skipped) as a dict."""
    values = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


# The production config (deploy/server3.config): the instances copy its DRAIN_DELAY, as HAProxy needs
HOST_CONFIG = config_values((DEPLOY_DIR / "server3.config").read_text())

# Run by the harness's Python in place of the server: puts the held socket at descriptor 3, sets LISTEN_FDS
# and LISTEN_PID (its own pid, which the server keeps across the exec) as systemd does, then execs it.
ACTIVATE = (
    "import os, sys\n"
    "fd = int(os.environ.pop('SERVER3_HELD_FD'))\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.environ['LISTEN_FDS'] = '1'\n"
    "os.environ['LISTEN_PID'] = str(os.getpid())\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)

APP_TEMPLATE = """
import os
import time

VERSION = "{version}"
INSTANCE = os.environ.get("SERVER3_INSTANCE", "?")


def application(environ, start_response):
    body = environ["wsgi.input"].read() if environ["REQUEST_METHOD"] == "POST" else b""
    query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    time.sleep(int(query.get("ms", "0")) / 1000)
    headers = [
        ("Content-Type", "text/plain"),
        ("X-Instance", INSTANCE),
        ("X-Version", VERSION),
        ("X-Pid", str(os.getpid())),
    ]
    start_response("200 OK", headers)
    return [b"%s %s %d" % (INSTANCE.encode(), VERSION.encode(), len(body))]
"""


def free_port() -> int:
    """A port the kernel picks (for addresses a program must be told up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class PortTaken(Exception):
    """A port the kernel gave this harness was bound by another process before the program bound it."""


class Process:
    """A program in its own process group, its output in a log file."""

    def __init__(self, name: str, command: list[str], log: Path, **popen) -> None:
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True, **popen
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill_group(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


class Instance:
    """One Server 3 instance: a config, an app, a STATS port, and either its own bind or a held socket."""

    def __init__(self, name: str, workdir: Path, held: bool, workers: int = 1) -> None:
        self.name = name
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True)
        self.held = socket.create_server(("127.0.0.1", 0), backlog=256) if held else None
        self.port = self.held.getsockname()[1] if held else free_port()
        self.stats_port = free_port()
        self.write_app("1")
        (self.workdir / "server3.config").write_text(
            "HOST=127.0.0.1\n"
            f"PORT={self.port}\n"
            "SOCKET_BACKLOG=256\n"
            "APP=app\n"
            "DOMAIN=localhost\n"
            f"WORKERS={workers}\n"
            "APP_THREADS=4\n"
            f"DRAIN_DELAY={HOST_CONFIG['DRAIN_DELAY']}\n"  # the production config's, as HAProxy's checks need
            "SHUTDOWN_TIMEOUT=10\n"
            "ACCESS_LOG=off\n"
            f"STATS=127.0.0.1:{self.stats_port}\n"
        )
        self.process: Process | None = None
        self.starts = 0

    def write_app(self, version: str) -> None:
        (self.workdir / "app.py").write_text(APP_TEMPLATE.format(version=version))

    def start(self) -> None:
        self.starts += 1
        env = dict(os.environ)
        env["PYTHONPATH"] = str(RUNTIME_DIR)
        env["PYTHONUNBUFFERED"] = "1"
        env["SERVER3_INSTANCE"] = self.name
        server = ["-m", "Server_3_free_threads", "--config", str(self.workdir / "server3.config")]
        popen: dict = {"cwd": self.workdir, "env": env}
        if self.held is not None:
            env["SERVER3_HELD_FD"] = str(self.held.fileno())
            command = [sys.executable, "-c", ACTIVATE, *server]
            popen["pass_fds"] = (self.held.fileno(),)
        else:
            command = [sys.executable, *server]
        self.process = Process(self.name, command, self.workdir / "server.log", **popen)

    def wait_ready(self, timeout: float = 20.0) -> None:
        def ready():
            text = self.process.text()
            if "Address already in use" in text or "is already in use" in text:
                raise PortTaken(f"{self.name}: a port picked for it was taken meanwhile:\n{text[-2000:]}")
            assert self.process.alive(), f"{self.name} exited:\n{text[-3000:]}"
            return http_get(self.stats_port, "/ready")[0] == 200

        wait_until(ready, timeout, f"{self.name} ready")

    def stats(self) -> list[dict]:
        return json.loads(http_get(self.stats_port, "/stats")[1])

    def signal(self, signum: int) -> None:
        os.kill(self.process.pid, signum)

    def close(self) -> None:
        if self.process is not None:
            self.process.kill_group()
        if self.held is not None:
            self.held.close()


class HAProxy:
    """Debian's haproxy with deploy/haproxy/haproxy.cfg, its addresses replaced by the instances' own."""

    def __init__(self, workdir: Path, instances: list[Instance]) -> None:
        self.port = free_port()
        self.socket_path = workdir / "haproxy.sock"
        text = (DEPLOY_DIR / "haproxy" / "haproxy.cfg").read_text()
        text = text.replace(
            "global\n", f"global\n    stats socket {self.socket_path} mode 600 level admin\n", 1
        )
        # every request in the log (its retries field counts what HAProxy retried)
        assert "local0 err\n" in text
        text = text.replace("local0 err\n", "local0 info\n")
        text = text.replace("    bind :80\n", f"    bind 127.0.0.1:{self.port}\n")
        assert " check port 9100 " in text
        text = text.replace(" check port 9100 ", " check ")
        servers = [line for line in text.splitlines() if line.strip().startswith("server app")]
        assert len(servers) == len(instances), servers
        for line, instance in zip(servers, instances, strict=True):
            address = f"127.0.0.1:{instance.port} port {instance.stats_port}"
            text = text.replace(line, f"    server {instance.name} {address}")
        self.config = workdir / "haproxy.cfg"
        self.config.write_text(text)
        self.process = Process("haproxy", ["haproxy", "-db", "-f", str(self.config)], workdir / "haproxy.log")

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(line.encode() + b"\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.decode()

    def server_states(self, detail: bool = False) -> dict[str, str]:
        """{server name: "UP" | "DOWN" | ...} as HAProxy sees them now; with `detail`, the last check's result
        too ("DOWN L7STS/503": the readiness check answered 503; "DOWN L4CON": connection refused)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "server3" and row.get("svname") not in ("FRONTEND", "BACKEND"):
                status = row["status"]
                if detail:
                    status += f" {row.get('check_status', '')}/{row.get('check_code', '')}".rstrip("/")
                states[row["svname"]] = status
        return states


class Nginx:
    """Debian's nginx with deploy/nginx/server3.conf, its upstream servers and listen address replaced."""

    def __init__(self, workdir: Path, instances: list[Instance]) -> None:
        self.port = free_port()
        text = (DEPLOY_DIR / "nginx" / "server3.conf").read_text()
        assert "    listen 80;\n" in text
        text = text.replace("    listen 80;\n", f"    listen 127.0.0.1:{self.port};\n")
        servers = [line for line in text.splitlines() if line.strip().startswith("server 10.0.0.")]
        assert len(servers) == len(instances), servers
        for line, instance in zip(servers, instances, strict=True):
            text = text.replace(line, re.sub(r"server \S+", f"server 127.0.0.1:{instance.port}", line))
        (workdir / "server3.conf").write_text(text)
        main = workdir / "nginx.conf"
        main.write_text(
            ("user root;\n" if os.geteuid() == 0 else "")  # its workers read this test's private folder
            + f"pid {workdir}/nginx.pid;\nerror_log stderr warn;\nworker_processes 1;\nevents {{}}\n"
            "http {\n    access_log off;\n"
            + "".join(f"    {kind}_temp_path {workdir}/{kind};\n" for kind in ("client_body", "proxy"))
            + "".join(f"    {kind}_temp_path {workdir}/{kind};\n" for kind in ("fastcgi", "uwsgi", "scgi"))
            + f"    include {workdir}/server3.conf;\n}}\n"
        )
        command = ["nginx", "-p", str(workdir), "-c", str(main), "-g", "daemon off;"]
        self.process = Process("nginx", command, workdir / "nginx.log")

    def wait_serving(self, timeout: float = 10.0) -> None:
        def serving():
            assert self.process.alive(), f"nginx exited:\n{self.process.text()[-3000:]}"
            return http_get(self.port, "/work?ms=0")[0] == 200

        wait_until(serving, timeout, "nginx serving")


class Prometheus:
    """Debian's prometheus scraping every instance's STATS /metrics once a second."""

    def __init__(self, workdir: Path, instances: list[Instance]) -> None:
        self.port = free_port()
        targets = ", ".join(f'"127.0.0.1:{i.stats_port}"' for i in instances)
        config = workdir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
            "scrape_configs:\n  - job_name: server3\n    metrics_path: /metrics\n"
            f"    static_configs:\n      - targets: [{targets}]\n"
        )
        self.process = Process(
            "prometheus",
            [
                "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            workdir / "prometheus.log",
        )

    def api(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/{path}?{query}", timeout=10) as r:
            answer = json.loads(r.read())
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]


class Load:
    """A steady, bounded load through the balancer: `clients` keep-alive connections, each sending one request
    every `clients / rate` seconds (so `rate` requests per second in all, never more), a mix of GETs (safe to
    retry) and POSTs (not), each request's app work `work_ms`. Every request's start, end, method, status or
    error and the instance that answered are kept."""

    def __init__(self, port: int, rate: float, clients: int, post_share: float, work_ms: int) -> None:
        self.port = port
        self.interval = clients / rate
        self.clients = clients
        self.post_every = round(1 / post_share) if post_share else 0
        self.work_ms = work_ms
        self.results: list[tuple[float, float, str, int | str, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, index: int) -> None:
        conn = None
        n = 0
        next_at = time.monotonic() + index * self.interval / self.clients  # spread the clients out
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            next_at += self.interval
            n += 1
            post = bool(self.post_every) and (n + index) % self.post_every == 0
            method = "POST" if post else "GET"
            started = time.monotonic()
            outcome: int | str
            instance = ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                body = b"x" * 1024 if post else None
                conn.request(method, f"/work?ms={self.work_ms}", body=body)
                response = conn.getresponse()
                response.read()
                outcome = response.status
                instance = response.getheader("X-Instance", "") + " " + response.getheader("X-Version", "")
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
                if conn is not None:
                    conn.close()
                conn = None
            with self._lock:
                self.results.append((started, time.monotonic(), method, outcome, instance))
        if conn is not None:
            conn.close()

    def between(self, start: float, end: float) -> list[tuple]:
        """Requests that started in [start, end)."""
        with self._lock:
            return [r for r in self.results if start <= r[0] < end]


def retried_requests(log: str) -> list[str]:
    """HAProxy's httplog lines of requests it sent again (the retries field, "+N" when redispatched)."""
    lines = []
    for line in log.splitlines():
        match = re.search(r" \d+/\d+/\d+/\d+/\+?(\d+) \d+/\d+ ", line)
        if match and int(match.group(1)) > 0:
            lines.append(line)
    return lines


def failed(results: list[tuple]) -> list[tuple]:
    return [r for r in results if r[3] != 200]


def dashboard_queries(path: Path) -> list[str]:
    """Every PromQL expression of a Grafana dashboard, its variables filled for a query by hand."""
    dashboard = json.loads(path.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    filled = []
    for expr in exprs:
        expr = (
            expr.replace("$__rate_interval", "10s").replace('"$job"', '".*"').replace('"$instance"', '".*"')
        )
        assert "$" not in expr, expr
        filled.append(expr)
    return filled


METRIC_NAME = re.compile(r"\b(server3_[a-z0-9_]+|process_[a-z0-9_]+)\b")

"""Does our server's cost per request grow with the number of connections? Two comparisons, each in
alternating pairs on one server start per run (this shared 2-core VM drifts; a pair's two halves are measured
seconds apart), printing CPU microseconds per request (the server process's utime+stime over the requests
wrk completed) and req/s, and their ratios:

    python3 bench/scaling.py                  # both comparisons, 3 pairs each
    python3 bench/scaling.py --pairs 5 --python .venv-ft/bin/python --env PYTHON_GIL=0

1. keep-alive hello at 64 vs 256 connections (target: 256 keeps at least 0.9x the req/s of 64);
2. keep-alive hello at 64 connections with 0 vs 2,000 idle keep-alive connections held open beside the load
   (target: no more than 1.1x the CPU per request: a held connection costs nothing per event).

CPU per request is the reading that survives this machine's noise; req/s on 2 cores shared with wrk is also
limited by wrk. Loopback only; every run bounded in time.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from proc_tree import tree_cpu_seconds  # noqa: E402
from server_process import free_port, http_get_ok  # noqa: E402
from wrk_runner import Load, run_wrk  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SECONDS = 4


def start_server(python: str, env_extra: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    config = Path(os.environ.get("TMPDIR", "/tmp")) / f"scaling-{port}.config"
    config.write_text(
        f"HOST=127.0.0.1\nPORT={port}\nSOCKET_BACKLOG=4096\nAPP=hello.wsgi\nDOMAIN=localhost\n"
        "ACCESS_LOG=off\nKEEPALIVE_TIMEOUT=120\nMAX_CONNECTIONS=10000\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "server-runtime" / "python"), **env_extra}
    proc = subprocess.Popen(
        [python, "-m", "Server_3_free_threads", "--config", str(config)],
        cwd=REPO / "examples" / "hello",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not http_get_ok(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise SystemExit(f"the server did not start ({python})")
        time.sleep(0.1)
    return proc, port


def measure(pid: int, port: int, connections: int) -> tuple[float, float]:
    """(CPU us per request, req/s) of one wrk run."""
    before = tree_cpu_seconds(pid)
    result = run_wrk(Load("/", connections), port, SECONDS)
    used = tree_cpu_seconds(pid) - before
    if "failed" in result or not result["requests"]:
        raise SystemExit(f"wrk failed: {result.get('failed')}")
    return used * 1e6 / result["requests"], result["rps"]


def hold(port: int, count: int) -> list[socket.socket]:
    """`count` keep-alive connections that each made one request and then stay idle."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        held.append(sock)
    for sock in held:
        sock.recv(256)
    return held


def report(title: str, a_name: str, b_name: str, pairs: list[tuple], target: str) -> None:
    a_cpu = statistics.median(p[0][0] for p in pairs)
    b_cpu = statistics.median(p[1][0] for p in pairs)
    a_rps = statistics.median(p[0][1] for p in pairs)
    b_rps = statistics.median(p[1][1] for p in pairs)
    print(f"\n{title}")

    def side(name: str, cpu: float, rps: float) -> str:
        return f"{name} {cpu:.1f} us/req {rps:,.0f} req/s"

    for i, (a, b) in enumerate(pairs, 1):
        print(f"  pair {i}: {side(a_name, *a)} | {side(b_name, *b)}")
    print(
        f"  median: {side(a_name, a_cpu, a_rps)}; {side(b_name, b_cpu, b_rps)}; "
        f"CPU per request {b_cpu / a_cpu:.2f}x, req/s {b_rps / a_rps:.2f}x  (target: {target})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--held", type=int, default=2000)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    args = parser.parse_args(argv)
    env_extra = dict(item.split("=", 1) for item in args.env)
    proc, port = start_server(args.python, env_extra)
    try:
        measure(proc.pid, port, 64)  # warm-up
        connections = [(measure(proc.pid, port, 64), measure(proc.pid, port, 256)) for _ in range(args.pairs)]
        report("keep-alive hello, 64 vs 256 connections", "c64", "c256", connections, "c256 req/s >= 0.9x")
        held_pairs = []
        for _ in range(args.pairs):
            without = measure(proc.pid, port, 64)
            held = hold(port, args.held)
            with_held = measure(proc.pid, port, 64)
            for sock in held:
                sock.close()
            time.sleep(1)
            held_pairs.append((without, with_held))
        report(
            f"keep-alive hello at 64 connections, with 0 vs {args.held:,} idle connections held",
            "0 held",
            f"{args.held} held",
            held_pairs,
            "CPU per request <= 1.1x",
        )
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

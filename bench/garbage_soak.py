"""Garbage soak: memory of each server while it is fed malformed and mutated requests, and whether it still
serves afterwards. The same garbage for every server (the fuzzing suites' structured mutations of real
requests, server-runtime/python/tests/mutations.py, from one seed), each case on a fresh connection sent in
random pieces, then half-closed; 8 clients at once, loopback only.

    python3 bench/garbage_soak.py                                 # ours, gunicorn gthread, waitress, cheroot
    python3 bench/garbage_soak.py --servers ours --checkpoints 20000,150000
    python3 bench/garbage_soak.py --servers ours --env MALLOC_ARENA_MAX=1   # allocator or something kept?

Prints, per server, the RSS of its process tree after start and one request, after a warm-up of 2,000
cases, and at each checkpoint, plus how the cases ended (answered, closed without an answer, timed out) and
whether a plain GET / still works at the end. Numbers, not a verdict: read them next to each other.
"""

from __future__ import annotations

import argparse
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server-runtime" / "python" / "tests"))

import venvs  # noqa: E402
from mutations import garbage  # noqa: E402
from peers import APPS, all_servers  # noqa: E402
from proc_tree import tree_rss_bytes  # noqa: E402
from server_process import RunningServer  # noqa: E402

WARMUP = 2000
CLIENTS = 8
CASE_TIMEOUT = 5.0


def send_case(port: int, pieces: list[bytes]) -> str:
    """answered | closed (no bytes back) | timeout | reset"""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=CASE_TIMEOUT)
    except OSError:
        return "refused"
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for piece in pieces:
                sock.sendall(piece)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        got = 0
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                return "timeout"
            except OSError:
                return "reset" if not got else "answered"
            if not data:
                return "answered" if got else "closed"
            got += len(data)
    finally:
        sock.close()


def feed(port: int, count: int, seed: int, outcomes: dict) -> None:
    """`count` garbage cases from CLIENTS threads; outcome counts are added to `outcomes`."""
    lock = threading.Lock()

    def client(index: int, n: int) -> None:
        rng = random.Random(seed * 1000 + index)
        local: dict[str, int] = {}
        for _ in range(n):
            _, pieces = garbage(rng)
            outcome = send_case(port, pieces)
            local[outcome] = local.get(outcome, 0) + 1
        with lock:
            for key, value in local.items():
                outcomes[key] = outcomes.get(key, 0) + value

    share = [count // CLIENTS + (1 if i < count % CLIENTS else 0) for i in range(CLIENTS)]
    threads = [threading.Thread(target=client, args=(i, n)) for i, n in enumerate(share)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def get_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return sock.recv(12).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def soak(server, checkpoints: list[int], env_extra: dict, scratch: Path, log_dir: Path) -> dict:
    running = RunningServer(server, APPS["hello"], 1, 4, scratch, log_dir)
    if env_extra:
        original = server.launch

        def launch(*args, **kwargs):
            spec = original(*args, **kwargs)
            spec.env.update(env_extra)
            return spec

        server.launch = launch
    why = running.start()
    if why:
        return {"server": server.name, "skipped": why}
    try:
        get_ok(running.port)
        row = {"server": server.name, "rss": [("start", tree_rss_bytes(running.pid))], "outcomes": {}}
        started = time.monotonic()
        feed(running.port, WARMUP, 1, row["outcomes"])
        row["rss"].append((f"{WARMUP:,}", tree_rss_bytes(running.pid)))
        done = WARMUP
        for i, target in enumerate(checkpoints):
            feed(running.port, target - done, 2 + i, row["outcomes"])
            done = target
            row["rss"].append((f"{target:,}", tree_rss_bytes(running.pid)))
        row["seconds"] = time.monotonic() - started
        row["serving"] = get_ok(running.port)
        row["alive"] = running.proc.poll() is None
        return row
    finally:
        running.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default="ours,gunicorn-gthread,waitress,cheroot")
    parser.add_argument("--checkpoints", default="20000,150000", help="cumulative case counts to measure at")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the servers (repeatable)")
    args = parser.parse_args(argv)
    checkpoints = sorted(int(n) for n in args.checkpoints.split(","))
    env_extra = dict(item.split("=", 1) for item in args.env)
    wanted = args.servers.split(",")
    servers = [s for s in all_servers() if s.name in wanted]
    for server in servers:
        if server.venv:
            ok, why = venvs.ensure_venv(server.venv)
            if not ok:
                print(f"{server.name}: cannot install ({why})")
    scratch = Path(tempfile.mkdtemp(prefix="garbage-soak-"))
    log_dir = venvs.CACHE / "logs"
    rows = []
    for server in servers:
        print(f"{server.name}: {checkpoints[-1]:,} garbage cases ...", flush=True)
        rows.append(soak(server, checkpoints, env_extra, scratch, log_dir))
    extra = f", env {env_extra}" if env_extra else ""
    print(f"\nGarbage soak ({CLIENTS} clients, loopback, hello app, 1 process, 4 threads{extra})")
    for row in rows:
        if "skipped" in row:
            print(f"  {row['server']:18} skipped: {row['skipped']}")
            continue
        mb = [(label, rss / 1e6) for label, rss in row["rss"]]
        points = "  ".join(f"{label}: {value:.1f} MB" for label, value in mb)
        growth = mb[-1][1] - mb[1][1]
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(row["outcomes"].items()))
        print(f"  {row['server']:18} {points}  (+{growth:.1f} MB after the warm-up)")
        print(
            f"  {'':18} {outcomes}; {row['seconds']:.0f} s; alive {row['alive']}, GET / after: "
            f"{'ok' if row['serving'] else 'FAILED'}"
        )
    return 0 if all(row.get("serving", True) for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Runs wrk once and returns its raw numbers (parsed from the line bench/lua/report.lua prints)."""

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class Load:
    """What wrk sends: a path, a request script from bench/lua/, extra headers, how many connections."""

    path: str
    connections: int
    script: str = "get"
    headers: tuple[str, ...] = ()


def wrk_script(script: str) -> str:
    return (LUA / f"{script}.lua").read_text() + "\n" + (LUA / "report.lua").read_text()


def run_wrk(load: Load, port: int, seconds: float, timeout_s: float = 2.0) -> dict:
    """One bounded wrk run. Returns the numbers, or {"failed": reason} when wrk itself did not report."""
    threads = 1 if load.connections < 2 else 2  # 2 cores: more wrk threads would only steal the server's CPU
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-") as script:
        script.write(wrk_script(load.script))
        script.flush()
        argv = ["wrk", "-t", str(threads), "-c", str(load.connections), "-d", f"{max(1, round(seconds))}s"]
        argv += ["--timeout", f"{timeout_s:g}s", "-s", script.name]
        for header in load.headers:
            argv += ["-H", header]
        argv.append(f"http://127.0.0.1:{port}{load.path}")
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=seconds + timeout_s + 15,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return {"failed": "wrk did not finish in time"}
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON ") :])
            seconds_run = raw["duration_us"] / 1e6
            raw["rps"] = raw["requests"] / seconds_run if seconds_run else 0.0
            raw["socket_errors"] = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors"))
            raw["socket_errors"] += raw["timeouts"]
            return raw
    return {"failed": f"wrk exited {done.returncode}: {(done.stderr or done.stdout).strip()[:200]}"}

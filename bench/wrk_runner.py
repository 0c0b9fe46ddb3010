"""Runs wrk once and returns its raw numbers (parsed from the line bench/lua/report.lua prints)."""

import json
import os
import subprocess
import tempfile
import threading
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
        # wrk's own CPU (from its rusage when it is reaped): on this 2-core machine the server and wrk share
        # the cores, so "server cpu % + wrk cpu % near 200" says the machine, not the server, was the limit.
        with tempfile.TemporaryFile("w+") as output:
            proc = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            killer = threading.Timer(seconds + timeout_s + 15, proc.kill)
            killer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                killer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
            output.seek(0)
            text = output.read()
        if proc.returncode == -9:
            return {"failed": "wrk did not finish in time"}
    for line in text.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line[len("BENCH_JSON ") :])
            seconds_run = raw["duration_us"] / 1e6
            raw["rps"] = raw["requests"] / seconds_run if seconds_run else 0.0
            raw["socket_errors"] = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors"))
            raw["socket_errors"] += raw["timeouts"]
            cpu = usage.ru_utime + usage.ru_stime
            raw["wrk_cpu_pct"] = round(100 * cpu / seconds_run, 1) if seconds_run else 0.0
            return raw
    return {"failed": f"wrk exited {proc.returncode}: {text.strip()[:200]}"}

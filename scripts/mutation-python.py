#!/usr/bin/env python3
"""Mutation testing of the Python runtime (server-runtime/python/Server_3_free_threads) with cosmic-ray.

    .venv/bin/python scripts/mutation-python.py          # every mutant of every module (hours)
    .venv/bin/python scripts/mutation-python.py --gate   # CI: a fixed sample + changed lines
    ... --modules parser,metrics --report FILE --json FILE --workers 2 --budget SECONDS --list

cosmic-ray enumerates and applies the mutants (its operators, its occurrence numbering); this script runs
them, because the tests start the server as a child process: a mutant must be a real file on disk that the
child imports. Each worker (2 at most on this 2-core machine) owns a copy of the package in a scratch folder;
per mutant it writes the mutated module there, deletes its .pyc, runs the module's test files
(server-runtime/python/mutation/config.toml) with SERVER3_RUNTIME_DIR pointing at the copy (conftest.py makes
both the servers it starts and its in-process imports load the copy), then restores the file and kills any
server still carrying the run's environment marker. Known equivalent mutants (mutation/equivalents.txt) are
never run. Exit status: 0 when every module's score is at or above its threshold, 1 otherwise, 2 on a setup
error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parent.parent
PYTHON_DIR = REPO / "server-runtime" / "python"
PACKAGE = PYTHON_DIR / "Server_3_free_threads"
TESTS = PYTHON_DIR / "tests"
MUTATION_DIR = PYTHON_DIR / "mutation"
MARKER = "SERVER3_MUTATION_RUN"


@dataclass
class Mutant:
    module: str
    operator: str
    occurrence: int  # cosmic-ray's: the n-th position of this operator in the module
    line: int
    source: str  # the original line, stripped
    index: int  # the n-th mutant of this operator on a line with this text (keys survive edits elsewhere)
    status: str = "pending"  # killed, survived, timeout, equivalent, error, not-run
    seconds: float = 0.0
    mutated: str = ""  # the mutated line, stripped
    output: str = ""

    @property
    def key(self) -> str:
        return f"{self.module}.py | {self.operator} | {self.index} | {self.source}"

    def rank(self, seed: str) -> str:
        return hashlib.sha256(f"{seed}|{self.key}".encode()).hexdigest()


@dataclass
class Module:
    name: str
    tests: list[str]
    threshold: float
    sample: int
    mutants: list[Mutant] = field(default_factory=list)

    def counts(self) -> dict:
        out = {s: 0 for s in ("killed", "timeout", "survived", "equivalent", "error", "not-run")}
        for m in self.mutants:
            if m.status in out:
                out[m.status] += 1
        return out

    def score(self) -> float | None:
        c = self.counts()
        ran = c["killed"] + c["timeout"] + c["survived"]
        return None if not ran else 100.0 * (c["killed"] + c["timeout"]) / ran


def load_config() -> dict:
    with open(MUTATION_DIR / "config.toml", "rb") as f:
        return tomllib.load(f)


def load_equivalents() -> dict[str, str]:
    """`module.py | operator | index | source line | reason` per line; # comments. The reason is the last part
    and never holds " | "; the source line may (an annotation such as `str | None`)."""
    out = {}
    path = MUTATION_DIR / "equivalents.txt"
    if not path.exists():
        return out
    for raw in path.read_text().splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in raw.split(" | ")]
        if len(parts) < 5:
            sys.exit(f"mutation: bad line in {path}: {raw!r} (module | operator | index | line | reason)")
        out[" | ".join(parts[:-1])] = parts[-1]
    return out


def enumerate_mutants(module: str, operator_patterns: list[str]) -> list[Mutant]:
    import cosmic_ray.plugins
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    path = PACKAGE / f"{module}.py"
    lines = path.read_text().splitlines()
    tree = get_ast_from_path(path)
    nodes = list(ast_nodes(tree))
    keep = re.compile("|".join(f"(?:{p})" for p in operator_patterns))
    mutants = []
    seen: dict[tuple, int] = {}
    for name in sorted(cosmic_ray.plugins.operator_names()):
        if not keep.fullmatch(name):
            continue
        operator = cosmic_ray.plugins.get_operator(name)()
        occurrence = 0
        for node in nodes:
            for start, _end in operator.mutation_positions(node):
                text = lines[start[0] - 1].strip()
                index = seen.get((name, text), 0)
                seen[(name, text)] = index + 1
                mutants.append(Mutant(module, name, occurrence, start[0], text, index))
                occurrence += 1
    return mutants


def mutate_source(source: str, mutant: Mutant) -> str | None:
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    operator = cosmic_ray.plugins.get_operator(mutant.operator)()
    return mutate_code(source, operator, mutant.occurrence)


def changed_lines(baseline: str, module: str) -> set[int]:
    """Lines of the module added or changed since `baseline` (git diff -U0), in today's numbering."""
    try:
        diff = subprocess.run(
            ["git", "diff", "-U0", baseline, "--", str(PACKAGE / f"{module}.py")],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError):
        return set()
    out: set[int] = set()
    for m in re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", diff, re.M):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        out.update(range(start, start + count))
    return out


def kill_marked(marker_value: str) -> None:
    """Kills processes whose environment carries this worker's marker (servers a test left behind)."""
    needle = f"{MARKER}={marker_value}\0".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read() + b"\0":
                    os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass


class Worker:
    def __init__(self, number: int, root: Path, python: str, config: dict, timeout: float) -> None:
        self.root = root / f"w{number}"
        shutil.copytree(PACKAGE, self.root / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__"))
        self.python = python
        self.config = config
        self.timeout = timeout

    def run_tests(self, module: Module) -> tuple[str, float, str]:
        env = dict(os.environ)
        env.update({k: str(v) for k, v in self.config.get("env", {}).items()})
        env["SERVER3_RUNTIME_DIR"] = str(self.root)
        env[MARKER] = str(self.root)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # pytest's own imports; conftest lets the servers write theirs
        cmd = [
            self.python,
            "-m",
            "pytest",
            *self.config["pytest_args"],
            *[str(TESTS / t) for t in module.tests],
        ]
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            out, _ = proc.communicate(timeout=self.timeout)
            status = {0: "survived", 1: "killed", 2: "killed"}.get(proc.returncode, "error")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            status = "timeout"
        finally:
            kill_marked(str(self.root))
        return status, time.monotonic() - started, out.decode(errors="replace")

    def _clear_pyc(self, module: str) -> None:
        for pyc in (self.root / PACKAGE.name / "__pycache__").glob(f"{module}.*.pyc"):
            pyc.unlink(missing_ok=True)

    def run(self, module: Module, mutant: Mutant) -> None:
        target = self.root / PACKAGE.name / f"{mutant.module}.py"
        original = (PACKAGE / f"{mutant.module}.py").read_text()
        mutated = mutate_source(original, mutant)
        if mutated is None:
            mutant.status = "error"
            mutant.output = "cosmic-ray made no mutation at this occurrence"
            return
        mutant.mutated = (
            mutated.splitlines()[mutant.line - 1].strip() if mutant.line <= len(mutated.splitlines()) else ""
        )
        try:
            target.write_text(mutated)
            self._clear_pyc(mutant.module)
            mutant.status, mutant.seconds, output = self.run_tests(module)
            mutant.output = output[-4000:]
        finally:
            target.write_text(original)
            self._clear_pyc(mutant.module)


def select(
    modules: list[Module],
    config: dict,
    equivalents: dict,
    mode: str,
    changed_cap: int,
    rerun: frozenset = frozenset(),
) -> list:
    seed = config["seed"]
    jobs = []
    for module in modules:
        for m in module.mutants:
            if m.key in equivalents:
                m.status = "equivalent"
        live = [m for m in module.mutants if m.status == "pending"]
        if mode == "full":
            picked = live
        elif mode == "rerun":
            picked = [m for m in live if m.key in rerun]
        else:
            ranked = sorted(live, key=lambda m: m.rank(seed))
            picked = ranked[: module.sample]
            if mode == "gate":
                lines = changed_lines(config["baseline"], module.name)
                extra = [m for m in ranked[module.sample :] if m.line in lines][:changed_cap]
                picked += extra
        chosen = {id(m) for m in picked}
        for m in live:
            if id(m) not in chosen:
                m.status = "skipped"
        jobs.append([(module, m) for m in picked])
    # Round robin over the modules: a run cut short by --budget has still sampled every module.
    longest = max((len(j) for j in jobs), default=0)
    return [j[i] for i in range(longest) for j in jobs if i < len(j)]


def execute(jobs: list, workers: list[Worker], budget: float | None, log=None) -> None:
    started = time.monotonic()
    lock = threading.Lock()
    queue = list(jobs)
    done = [0]

    def work(worker: Worker) -> None:
        while True:
            with lock:
                if not queue:
                    return
                if budget is not None and time.monotonic() - started > budget:
                    for _, m in queue:
                        m.status = "not-run"
                    queue.clear()
                    return
                module, mutant = queue.pop(0)
            worker.run(module, mutant)
            with lock:
                if log is not None:  # one line per mutant as it ends: a run stopped midway keeps its results
                    log.write(
                        json.dumps({"key": mutant.key, "line": mutant.line, "status": mutant.status}) + "\n"
                    )
                    log.flush()
                done[0] += 1
                mark = {"killed": ".", "timeout": "T", "survived": "S", "error": "E"}.get(mutant.status, "?")
                print(
                    f"[{done[0]}/{len(jobs)}] {mark} {mutant.module}:{mutant.line} {mutant.operator} "
                    f"({mutant.seconds:.1f}s)",
                    flush=True,
                )

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def report_text(modules: list[Module], mode: str, seconds: float, equivalents: dict) -> str:
    lines = [
        f"# Python mutation testing: {mode} run",
        "",
        f"{time.strftime('%Y-%m-%d')}, {seconds / 60:.1f} min. Score = killed (timeouts included) / (killed +"
        " survived); accepted equivalents (mutation/equivalents.txt) are not run and not counted.",
        "",
        "| module | mutants | run | killed | timeout | survived | equivalent | errors | score | threshold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mod in modules:
        c = mod.counts()
        ran = c["killed"] + c["timeout"] + c["survived"]
        score = mod.score()
        shown = "-" if score is None else f"{score:.1f}%"
        lines.append(
            f"| {mod.name} | {len(mod.mutants)} | {ran} | {c['killed']} | {c['timeout']} | {c['survived']} | "
            f"{c['equivalent']} | {c['error']} | {shown} | {mod.threshold:g}% |"
        )
    survivors = [m for mod in modules for m in mod.mutants if m.status == "survived"]
    lines += ["", f"## Surviving mutants ({len(survivors)})", ""]
    if not survivors:
        lines.append("None.")
    for m in survivors:
        # the key as equivalents.txt takes it, then the mutated line
        lines.append(f"- line {m.line}: `{m.key}` -> `{m.mutated}`")
    errors = [m for mod in modules for m in mod.mutants if m.status == "error"]
    if errors:
        lines += ["", f"## Errors ({len(errors)})", ""]
        lines += [f"- `{m.module}.py:{m.line}` {m.operator}: {m.output.strip()[-300:]!r}" for m in errors]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--gate", action="store_true", help="the CI gate: sample + lines changed since baseline"
    )
    parser.add_argument("--sample", action="store_true", help="only the fixed sample (no changed lines)")
    parser.add_argument(
        "--modules", default="", help="comma-separated module names (default: all configured)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, default=None, help="seconds after which no mutant is started")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds per mutant's test run")
    parser.add_argument("--size", type=int, default=0, help="sample this many per module (default: config)")
    parser.add_argument("--changed", type=int, default=6, help="gate: at most this many changed-line mutants")
    parser.add_argument("--report", default="", help="write the markdown report here")
    parser.add_argument("--json", default="", help="write every mutant's result here")
    parser.add_argument("--rerun", default="", help="run only the survivors recorded in this --log file")
    parser.add_argument("--log", default="", help="append one JSON line per finished mutant to this file")
    parser.add_argument("--list", action="store_true", help="list the selected mutants, run nothing")
    parser.add_argument("--show-output", action="store_true", help="print the test output of survivors")
    args = parser.parse_args()

    config = load_config()
    equivalents = load_equivalents()
    names = [n for n in args.modules.split(",") if n] or list(config["modules"])
    unknown = [n for n in names if n not in config["modules"]]
    if unknown:
        print(f"mutation: unknown modules {unknown}; configured: {list(config['modules'])}", file=sys.stderr)
        return 2
    modules = []
    for name in names:
        spec = config["modules"][name]
        mod = Module(name, spec["tests"], float(spec["threshold"]), args.size or int(spec["sample"]))
        mod.mutants = enumerate_mutants(name, config["operators"])
        modules.append(mod)
    known = {m.key for mod in modules for m in mod.mutants}
    stale = [k for k in equivalents if k.split(".py")[0] in names and k not in known]
    for key in stale:
        print(f"mutation: equivalent no longer matches a mutant (line edited?): {key}", file=sys.stderr)

    mode = "gate" if args.gate else "sample" if args.sample else "rerun" if args.rerun else "full"
    rerun = frozenset()
    if args.rerun:  # the survivors of an earlier run's --log: did the new tests kill them?
        with open(args.rerun) as f:
            rerun = frozenset(e["key"] for e in map(json.loads, f) if e["status"] == "survived")
    jobs = select(modules, config, equivalents, mode, args.changed, rerun)
    if args.list:
        for _mod, m in jobs:
            print(f"line {m.line}: {m.key}")
        print(f"{len(jobs)} mutants")
        return 0
    workers = max(1, min(args.workers, 2))  # 2 cores, shared: never more
    print(f"mutation: {len(jobs)} mutants of {len(modules)} modules, {workers} workers ({mode})", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="server3-mutation-") as root:
        pool = [Worker(i, Path(root), sys.executable, config, args.timeout) for i in range(workers)]
        with open(args.log, "a") if args.log else open(os.devnull, "w") as log:
            execute(jobs, pool, args.budget, log if args.log else None)
    seconds = time.monotonic() - started

    text = report_text(modules, mode, seconds, equivalents)
    print("\n" + text)
    if args.show_output:
        for mod in modules:
            for m in mod.mutants:
                if m.status in ("survived", "error"):
                    print(f"--- {m.module}:{m.line} {m.operator}\n{m.output[-1500:]}")
    if args.report:
        Path(args.report).write_text(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {
                        k: getattr(m, k)
                        for k in ("module", "operator", "occurrence", "line", "source", "index")
                    }
                    | {"status": m.status, "seconds": round(m.seconds, 2), "mutated": m.mutated, "key": m.key}
                    for mod in modules
                    for m in mod.mutants
                    if m.status != "skipped"
                ],
                indent=1,
            )
        )
    failed = [m.name for m in modules if m.score() is not None and m.score() < m.threshold]
    errors = sum(m.counts()["error"] for m in modules)
    if failed:
        print(f"mutation-py: below threshold: {', '.join(failed)}")
    if errors:
        print(f"mutation-py: {errors} mutants could not be run")
    total_run = sum(
        1 for mod in modules for m in mod.mutants if m.status in ("killed", "timeout", "survived")
    )
    print(f"mutation-py: {total_run} mutants run in {seconds:.0f} s; modules at or above their threshold:")
    print(f"mutation-py: {len(modules) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""Throwaway virtualenvs for the benchmark's peers, one per requirements file, cached under .cache/bench/.

Every venv gets the peer's pin from bench/requirements-<name>.txt plus the Flask pin that the project's tests
use (read from server-runtime/python/requirements-test.txt, so the Flask workload runs the same Flask
everywhere).
A venv is reused while a stamp file in it matches the requirements it was built from, so a second run installs
nothing. Installs never touch the project's .venv.

Venvs are made from the interpreter running the benchmark, in .cache/bench/<name>/, or from another one
(`bench.py --python PATH`, or a server's own `python`, as `--gil-compare` does for the free-threaded build) in
.cache/bench/py<version>-<hash of its path>/<name>/ (for example py3.13t-...: a free-threaded 3.13), so venvs
of different interpreters never mix.
"""

import functools
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
CACHE = REPO / ".cache" / "bench"
TEST_REQUIREMENTS = REPO / "server-runtime" / "python" / "requirements-test.txt"
STAMP = "bench-requirements.txt"

# The interpreter venvs are made from when a server names none (`bench.py --python PATH` changes it).
_default_python = sys.executable


def use_python(path: str) -> None:
    global _default_python
    _default_python = str(path)


def python_for(python: str | None) -> str:
    return python or _default_python


@functools.cache
def python_info(python: str) -> dict:
    """{"version": "3.13", "free_threaded": True, "tag": "3.13t", "full": sys.version} of an interpreter."""
    code = (
        "import json, sys, sysconfig; ft = bool(sysconfig.get_config_var('Py_GIL_DISABLED'));"
        "v = '%d.%d' % sys.version_info[:2];"
        "print(json.dumps({'version': v, 'free_threaded': ft, 'tag': v + ('t' if ft else ''),"
        " 'full': sys.version.split()[0]}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{python} does not run: {done.stderr.strip()[:200]}")
    return json.loads(done.stdout)


def venv_root(python: str | None = None) -> Path:
    python = python_for(python)
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return CACHE
    digest = hashlib.sha1(os.path.realpath(python).encode()).hexdigest()[:8]
    return CACHE / f"py{python_info(python)['tag']}-{digest}"


def flask_pin() -> str:
    for line in TEST_REQUIREMENTS.read_text().splitlines():
        if line.strip().lower().startswith("flask=="):
            return line.strip()
    return "flask"


def requirements_for(name: str) -> str:
    """The exact requirement lines a venv is built from (its stamp)."""
    own = (BENCH / f"requirements-{name}.txt").read_text().splitlines()
    pins = [line.strip() for line in own if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(pins + [flask_pin()]) + "\n"


def venv_dir(name: str, python: str | None = None) -> Path:
    return venv_root(python) / name


def venv_python(name: str, python: str | None = None) -> Path:
    return venv_dir(name, python) / "bin" / "python"


def is_ready(name: str, python: str | None = None) -> bool:
    stamp = venv_dir(name, python) / STAMP
    return stamp.is_file() and stamp.read_text() == requirements_for(name)


def ensure_venv(name: str, timeout_s: float = 600, python: str | None = None) -> tuple[bool, str]:
    """Build the venv if missing or stale. Returns (ok, why-not); the pip log lands in the venv folder."""
    if is_ready(name, python):
        return True, ""
    target = venv_dir(name, python)
    target.parent.mkdir(parents=True, exist_ok=True)
    wanted = requirements_for(name)
    log_path = target.parent / f"{name}-install.log"
    try:
        with open(log_path, "w") as log:
            subprocess.run(
                [python_for(python), "-m", "venv", "--clear", str(target)],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
            req_file = target / "requirements.txt"
            req_file.write_text(wanted)
            subprocess.run(
                [str(venv_python(name, python)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
                + ["-r", str(req_file)],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                stdin=subprocess.DEVNULL,
            )
    except subprocess.TimeoutExpired:
        return False, f"pip install timed out after {timeout_s:.0f}s (log: {log_path})"
    except subprocess.CalledProcessError:
        return False, f"pip install failed: {last_line(log_path)} (log: {log_path})"
    (target / STAMP).write_text(wanted)
    return True, ""


def gil_turned_on(name: str, modules: list[str], python: str | None = None, path: str = "") -> str:
    """On a free-threaded interpreter: "" when importing `modules` in the venv leaves the GIL off, else what
    turned it on (an extension module without free-threading support re-enables it: the numbers of a "GIL
    off" server would be GIL numbers). Run without PYTHON_GIL, which would hide it."""
    code = (
        "import importlib, sys, warnings\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        f"    for m in {modules!r}: importlib.import_module(m)\n"
        "on = sys._is_gil_enabled()\n"
        "print('GIL ON: ' + '; '.join(str(w.message)[:160] for w in caught) if on else 'off')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if path:
        env["PYTHONPATH"] = path
    done = subprocess.run(
        [str(venv_python(name, python)), "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    if done.returncode != 0:
        return (
            f"importing {', '.join(modules)} failed: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}"
        )
    return "" if done.stdout.strip() == "off" else done.stdout.strip()


def last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:200]


if __name__ == "__main__":
    # `python3 bench/venvs.py waitress uwsgi` pre-builds venvs (the benchmark does this by itself too).
    for venv_name in sys.argv[1:]:
        print(venv_name, ensure_venv(venv_name))

"""Throwaway virtualenvs for the benchmark's peers, one per requirements file, cached under .cache/bench/.

Every venv gets the peer's pin from bench/requirements-<name>.txt plus the Flask pin that the project's tests
use (read from server-runtime/python/requirements-test.txt, so the Flask workload runs the same Flask
everywhere).
A venv is reused while a stamp file in it matches the requirements it was built from, so a second run installs
nothing. Installs never touch the project's .venv.
"""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
CACHE = REPO / ".cache" / "bench"
TEST_REQUIREMENTS = REPO / "server-runtime" / "python" / "requirements-test.txt"
STAMP = "bench-requirements.txt"


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


def venv_dir(name: str) -> Path:
    return CACHE / name


def venv_python(name: str) -> Path:
    return venv_dir(name) / "bin" / "python"


def is_ready(name: str) -> bool:
    stamp = venv_dir(name) / STAMP
    return stamp.is_file() and stamp.read_text() == requirements_for(name)


def ensure_venv(name: str, timeout_s: float = 600) -> tuple[bool, str]:
    """Build the venv if missing or stale. Returns (ok, why-not); the pip log lands in the venv folder."""
    if is_ready(name):
        return True, ""
    target = venv_dir(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    wanted = requirements_for(name)
    log_path = target.parent / f"{name}-install.log"
    try:
        with open(log_path, "w") as log:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(target)],
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=120,
            )
            req_file = target / "requirements.txt"
            req_file.write_text(wanted)
            subprocess.run(
                [str(venv_python(name)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
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


def last_line(path: Path) -> str:
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or ["no output"])[-1][:200]


if __name__ == "__main__":
    # `python3 bench/venvs.py waitress uwsgi` pre-builds venvs (the benchmark does this by itself too).
    for venv_name in sys.argv[1:]:
        print(venv_name, ensure_venv(venv_name))

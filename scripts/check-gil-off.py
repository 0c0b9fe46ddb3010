"""Fails (exit 1, with the culprit) when importing the test packages or the runtime turns the GIL back on.

    .venv-ft/bin/python scripts/check-gil-off.py      # run by scripts/setup.sh and scripts/test-python.sh --ft

A free-threaded CPython re-enables the GIL when it imports an extension module that does not declare itself
free-threading safe (Py_mod_gil): it prints a RuntimeWarning and `sys._is_gil_enabled()` turns True, and
every "GIL off" test and measurement after that silently runs with the GIL. Run it without PYTHON_GIL in the
environment (PYTHON_GIL=0 would keep the GIL off and hide such a module).
"""

import os
import sys
import warnings
from pathlib import Path

# What the pytest run and the benchmark import on this interpreter: the test packages, Flask's and Django's
# C parts (markupsafe._speedups; sqlite3 for Django), and every module of the runtime.
MODULES = [
    "pytest",
    "pytest_timeout",
    "hypothesis",
    "flask",
    "markupsafe",
    "jinja2",
    "werkzeug",
    "django",
    "django.core.wsgi",
    "django.core.handlers.wsgi",
    "sqlite3",
    "debugpy",
]
RUNTIME = Path(__file__).resolve().parent.parent / "server-runtime" / "python"


def main() -> int:
    if not hasattr(sys, "_is_gil_enabled"):
        print(f"check-gil-off: {sys.executable} is not a free-threaded build (Python {sys.version.split()[0]})")
        return 1
    if os.environ.get("PYTHON_GIL"):
        print("check-gil-off: unset PYTHON_GIL first: it would hide a module that turns the GIL back on")
        return 1
    if sys._is_gil_enabled():
        print(f"check-gil-off: the GIL is enabled at startup in {sys.executable}")
        return 1
    sys.path.insert(0, str(RUNTIME))
    runtime = sorted(
        "Server_3_free_threads." + p.stem
        for p in (RUNTIME / "Server_3_free_threads").glob("*.py")
        if p.stem not in ("__main__", "__init__")
    )
    culprits = []
    for name in [*MODULES, "Server_3_free_threads", *runtime]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                __import__(name)
            except ImportError as error:
                print(f"check-gil-off: cannot import {name}: {error}")
                return 1
        for warning in caught:
            if "GIL" in str(warning.message):
                culprits.append(f"{name}: {warning.message}")
        if sys._is_gil_enabled() and not culprits:
            culprits.append(f"{name}: the GIL is enabled after importing it")
        if culprits:
            break
    if culprits:
        print(
            "check-gil-off: importing a package turned the GIL back on in "
            f"{sys.executable}:\n  "
            + "\n  ".join(culprits)
            + "\n  Pin a version of that package whose C extension supports free-threading (a cp313t wheel"
            " declaring Py_mod_gil), or drop it: tests and benchmarks on this interpreter would run with the GIL."
        )
        return 1
    print(f"check-gil-off: GIL still off after importing {len(MODULES) + 1 + len(runtime)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())

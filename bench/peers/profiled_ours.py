"""Runs our server with a cProfile profiler in every thread, and writes one .pstats file per thread at exit.

cProfile sees only the thread that enabled it; the server's work happens in its accept/read/app/close threads,
so this wraps threading.Thread._bootstrap_inner (not run(): the server's thread classes override run) to give
each thread its own profiler. Used by bench/profile_ours.py.
Usage: profiled_ours.py OUT_DIR -- <the server's own arguments>
"""

import atexit
import cProfile
import os
import runpy
import sys
import threading

out_dir = sys.argv[1]
server_args = sys.argv[sys.argv.index("--") + 1 :]
profiles: list[tuple[str, cProfile.Profile]] = []
_original_bootstrap = threading.Thread._bootstrap_inner


def _profiled_bootstrap(self):
    profiler = cProfile.Profile()
    profiles.append((self.name, profiler))
    profiler.enable()
    try:
        _original_bootstrap(self)
    finally:
        profiler.disable()


def _dump():
    main_profiler.disable()
    os.makedirs(out_dir, exist_ok=True)
    for index, (name, profiler) in enumerate(profiles + [("main", main_profiler)]):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
        profiler.dump_stats(os.path.join(out_dir, f"{os.getpid()}-{index:03d}-{safe}.pstats"))


threading.Thread._bootstrap_inner = _profiled_bootstrap
atexit.register(_dump)
main_profiler = cProfile.Profile()
sys.argv = ["Server_3_free_threads"] + server_args
main_profiler.enable()
runpy.run_module("Server_3_free_threads", run_name="__main__", alter_sys=True)

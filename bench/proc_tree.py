"""CPU time and memory of a server's whole process tree, read from /proc (Linux only).

Pre-fork servers (gunicorn, uWSGI, Granian, ours with WORKERS>1) do their work in child processes, so a number
taken from the parent alone would flatter them: everything here sums over the root and all its descendants.
"""

import os
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
    return raw[raw.rindex(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """root and every descendant that is alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds used so far by the tree (reaped children included via cutime/cstime)."""
    total = 0
    for pid in tree_pids(root):
        fields = _stat_fields(pid)
        if fields:
            # fields[0] is field 3 (state): utime, stime, cutime, cstime are fields 14-17.
            total += sum(int(x) for x in fields[11:15])
    return total / CLOCK_TICKS


def tree_rss_bytes(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            pass
    return total


class PeakRssSampler:
    """Samples the tree's RSS in a background thread while a load runs; .peak is the largest sum seen."""

    def __init__(self, root: int, interval_s: float = 0.1):
        self.root = root
        self.interval_s = interval_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.root))
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(self.root))


class RssSeries:
    """Samples the tree's RSS every interval_s in a background thread: .samples is [(seconds since start,
    bytes)].

    A sample that finds the tree gone records 0, so a server that died mid-soak shows as a drop, not a gap."""

    def __init__(self, root: int, interval_s: float):
        self.root = root
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self.started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self.started, tree_rss_bytes(self.root)))
            self._stop.wait(self.interval_s)

    def __enter__(self):
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

"""What the four pipeline threads (accept, read, app, close) share: how a stage runs its loop, and what
happens when something goes wrong in it.

Each stage is one thread (APP_THREADS of them for the app stage), and a stage that stops running stops all
serving while the process stays up and the port keeps accepting: the worst outcome, a half-dead server. So
failures are contained at two levels:

1. Inside each loop, the handling of one connection or one request is guarded (`except Exception`): the
   thread logs the traceback, answers or drops that connection and goes on. What one client sends, one app
   raises or one exhausted resource (no descriptors, no temp space) costs that connection, never the stage.
2. Around the loop, `Stage.run` catches whatever still escapes (a bug in the loop itself, MemoryError between
   two items, an injected fault): the stage is marked dead and `Server.stage_died` ends the process at once
   with exit code 5 (EXIT["stageDied"] in control_schema.json) and a last log line naming the thread and the
   cause, so whoever runs it (the editor's supervisor, systemd, Kubernetes, the WORKERS master) starts a
   fresh one. Never a silent half-dead server.

The main thread also checks every second that each stage's thread is alive (see Server.watch_stages).

How a stage stops, the same for all four: `Stage.stop()` (main thread, Server.stop) sets `running` to False
and calls the stage's `wake()`, which interrupts whatever the loop waits on (its eventfd, its inbox's
eventfd, the app pool's wake tokens); the loop checks `running` once per wake-up and returns (the close
thread first finishes the closes it has begun). `loop()` returning marks the stage "stopped".
"""

from __future__ import annotations

import sys
import threading

from .metrics import ThreadStats
from .signals import block_in_this_thread


def keep_out_of_the_debugger(thread: threading.Thread) -> None:
    """Under debugpy ("Server 3: Start with Debugger"): the server's own threads are neither traced nor
    suspended (pydevd skips threads marked so), so a breakpoint or a pause in the app stops app threads only
    while accept, read, close and the control channel keep serving. App threads are debugged as usual (and the
    editor attaches with stopAllThreadsOnSuspend off, so one app thread's breakpoint stops only that one)."""
    if "debugpy" in sys.modules or "pydevd" in sys.modules:
        thread.pydev_do_not_trace = True
        thread.is_pydev_daemon_thread = True


def traceback_text() -> str:
    """The exception being handled, formatted; traceback is imported on the first error (idle memory)."""
    import traceback

    return traceback.format_exc()


class Stage(threading.Thread):
    """A pipeline thread: subclasses implement `loop()` (runs while `running`) and `wake()` (interrupts the
    loop's wait). `stats` is the thread's own metrics record."""

    def __init__(self, server, name: str, role: str, queue_depth) -> None:
        super().__init__(name=name, daemon=True)
        self.server = server
        self.stats = ThreadStats(name, role, queue_depth=queue_depth)
        self.running = True
        if role != "app":  # the app's code runs in the app threads only
            keep_out_of_the_debugger(self)

    def run(self) -> None:
        self.stats.native_id = threading.get_native_id()
        block_in_this_thread()  # signals go to the main thread (see signals.py)
        try:
            self.loop()
        except BaseException:  # anything that escapes the loop ends the stage: see above
            self.stats.state = "dead"
            self.server.stage_died(self.name, traceback_text())
            return
        self.stats.state = "stopped"

    def loop(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Ends the loop at its next wake-up (see the module's docstring)."""
        self.running = False
        self.wake()

    def wake(self) -> None:
        raise NotImplementedError

"""Signal plumbing shared by the server and the WORKERS master.

Linux delivers a process signal to any thread that does not block it; CPython then runs the Python handler
in the main thread only at its next bytecode, so a main thread blocked in poll() could sleep through a
SIGTERM taken by, say, the read thread. Two measures make that impossible:
- every pipeline thread blocks SIGTERM/SIGINT/SIGHUP (`block_in_this_thread`), so the kernel picks the
  main thread;
- `SignalWakeup` installs signal.set_wakeup_fd: the C-level handler writes a byte to a pipe the main
  thread polls, so poll() returns and the Python handlers run.
"""

from __future__ import annotations

import os
import signal

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def block_in_this_thread() -> None:
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    except (AttributeError, OSError, ValueError):
        pass


class SignalWakeup:
    """A pipe the C signal handler writes to; poll `fd` and call `drain()` when it is readable."""

    def __init__(self) -> None:
        self.fd, self._write_fd = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write_fd, False)
        signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)

    def drain(self) -> None:
        try:
            while os.read(self.fd, 4096):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        os.close(self.fd)
        os.close(self._write_fd)

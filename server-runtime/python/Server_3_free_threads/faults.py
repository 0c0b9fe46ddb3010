"""Fault injection for the chaos and resource-failure tests. Off unless SERVER3_FAULTS is set.

SERVER3_FAULTS is a comma-separated list of `POINT[:EXCEPTION][@N]`: the Nth time (default 1) a thread passes
POINT, it raises EXCEPTION (the name of a builtin exception, default RuntimeError), once; EXCEPTION `hang`
blocks that thread for good instead (a stuck stage). SERVER3_STUCK_SECONDS (default 10) is how long a stage
may stay busy before health() calls it stuck. The points:

    accept.loop  accept.item    once per wake-up of the accept thread / per accepted socket
    read.loop    read.event     once per wake-up of the read thread / per socket event it handles
    app.loop     app.task       in an app thread's own loop / inside the handling of one request
    close.loop   close.item     once per wake-up of the close thread / per connection it closes
    close.shutdown close.register close.unregister close.socket
                                just before the close thread's socket and epoll calls that can fail on
                                their own (a client reset, out of epoll watches): with `:OSError` they
                                test the handling of that failure, which closes the connection and counts
                                an error without an internal-error log
    control.loop                once per command or tick of the control channel's thread

`*.loop` points sit where nothing guards one connection, so a fault there kills the stage (the process must
then exit non-zero within a second); the others sit inside the per-connection guards (the thread must drop
that connection and keep serving). tests/test_chaos.py checks both for every stage.

The loops read `ACTIVE` once into a local and test it per pass: with SERVER3_FAULTS unset that is one local
boolean test, nothing else.
"""

from __future__ import annotations

import builtins
import os
import threading

ACTIVE = bool(os.environ.get("SERVER3_FAULTS"))
_plan: dict[str, list] = {}  # point -> [exception class, hits left before it fires]
_lock = threading.Lock()


def _parse(text: str) -> dict[str, list]:
    plan = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        item, _, count = item.partition("@")
        point, _, name = item.partition(":")
        kind = "hang" if name == "hang" else getattr(builtins, name or "RuntimeError", None)
        if kind != "hang" and not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise ValueError(f"SERVER3_FAULTS: {name!r} is not a builtin exception")
        plan[point] = [kind, int(count or 1)]
    return plan


if ACTIVE:
    _plan = _parse(os.environ["SERVER3_FAULTS"])


def hit(point: str) -> None:
    """Raises the planned exception when `point` is passed for the Nth time (only when ACTIVE)."""
    entry = _plan.get(point)
    if entry is None:
        return
    with _lock:
        entry[1] -= 1
        fire = entry[1] == 0
    if fire:
        if entry[0] == "hang":
            threading.Event().wait()  # forever: the stage stays busy and never waits again
        raise entry[0](f"fault injected at {point} (SERVER3_FAULTS)")

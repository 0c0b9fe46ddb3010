"""The control channel between the runtime and the VS Code supervisor (`--control-fd N`).

Contract (implemented exactly; the Node side in server-runtime/src/supervisor relies on it):

- N is an inherited, connected, bidirectional UNIX stream socket (Node stdio 'pipe' on fd 3). A plain pipe
  works too. When it reaches EOF (the supervisor died) the runtime stops gracefully: no orphan keeps the port.
- Runtime -> supervisor: one JSON object per line (UTF-8, `\\n`-terminated), each line written with one
  locked write so lines never interleave:
    {"type":"ready","url":"http://127.0.0.1:8000","host":"127.0.0.1","port":8000,"pid":123,"python":"3.11.7",
     "gil":true,"threads":["accept","read","app-1",...,"close"],"workers":1}
    {"type":"error","kind":"port-in-use"|"app-import"|"config-invalid"|"other","message":"one line",
     "traceback":"...","file":"/abs/path.py","line":12}
        (file/line: the deepest frame in the user's code, or the config file and line for config-invalid)
    {"type":"metrics", ...MetricsSnapshot of server-runtime/src/protocol.ts minus `id`: time, uptimeSeconds,
     pid, worker, threads:[{name, role, state, items, busySeconds, waitSeconds, queueDepth, errors,
     cpuSeconds}], totals:{connectionsOpen, connectionsAccepted, requests, status:{"1xx".."5xx"}, bytesIn,
     bytesOut, latency:{boundsMs:[...], counts:[...]}}}     (counts has one more entry than boundsMs: +Inf)
    {"type":"reloaded"} after SIGHUP, {"type":"stopping"} on SIGTERM/SIGINT/EOF.
- Supervisor -> runtime: {"cmd":"metrics","intervalMs":500}; 0 stops the stream. Default 0: nothing is sent
  until asked, so an idle server costs nothing.
- Also {"cmd":"requests","intervalMs":N} (the request log stream, request_log.py) and
  {"cmd":"requestDetail","thread":T,"seq":S[,"worker":W]} (one request with its redacted headers); every
  message and command is described in control_schema.json (docs/metrics.md).
- With WORKERS>1 the master holds the supervisor's channel and relays: each worker's metrics and requests
  lines carry its own `worker` index and `pid`; a requestDetail naming a worker goes to it alone; the master
  writes whole lines only.
- Logs do not use this channel: startup line and errors go to stderr, access lines to stdout.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time

from . import faults
from .logs import LOG
from .signals import block_in_this_thread


class ControlChannel:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        # Streams the supervisor subscribes to ({"cmd": NAME, "intervalMs": N}): seconds between lines, 0 =
        # none, and the callable making each line's message(s). Nothing is sent until asked.
        self.intervals = {"metrics": 0.0, "requests": 0.0}
        self.on_eof = None  # called once when the supervisor goes away
        self.snapshot = None  # callable returning the metrics dict(s) to send
        self.requests = None  # callable returning the request log's dict(s) (see request_log.py)
        self.request_detail = None  # callable(thread, seq) -> one request with its headers, or None
        self.on_line = None  # optional hook for other commands (the workers master relays them)
        # Called with a traceback if this channel's thread fails outside one command: without it nobody
        # would notice the supervisor going away, so the owner ends the process (Server.stage_died).
        self.on_fatal = None
        self._failed: set[str] = set()
        self._thread: threading.Thread | None = None
        self.closed = False
        os.set_blocking(fd, True)

    @property
    def interval(self) -> float:
        """Seconds between metrics lines (0: none)."""
        return self.intervals["metrics"]

    def send(self, message: dict) -> bool:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8")
        return self.send_raw(data)

    def send_raw(self, data: bytes) -> bool:
        """Writes whole lines under the lock. False if the supervisor is gone."""
        with self._lock:
            if self.closed:
                return False
            try:
                view = memoryview(data)
                while view:
                    written = os.write(self.fd, view)
                    view = view[written:]
            except OSError:
                return False
        return True

    def start(self) -> None:
        from .stage import keep_out_of_the_debugger

        self._thread = threading.Thread(target=self._run, name="control", daemon=True)
        keep_out_of_the_debugger(self._thread)
        self._thread.start()

    def _run(self) -> None:
        block_in_this_thread()
        try:
            self._serve()
        except BaseException:
            import traceback

            text = traceback.format_exc()
            if self.on_fatal is None:
                LOG.error("control channel thread failed:\n%s", text.rstrip())
            else:
                self.on_fatal(text)

    def _serve(self) -> None:
        fault_points = faults.ACTIVE
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        pending = b""
        next_ticks = {name: 0.0 for name in self.intervals}
        while True:
            if fault_points:
                faults.hit("control.loop")
            now = time.monotonic()
            timeout_ms = -1
            for name, interval in self.intervals.items():
                if interval <= 0:
                    next_ticks[name] = 0.0
                    continue
                if next_ticks[name] == 0.0:
                    next_ticks[name] = now + interval
                if now >= next_ticks[name]:
                    self._send_stream(name)
                    next_ticks[name] = now + interval
                wait = max(0, int((next_ticks[name] - now) * 1000))
                timeout_ms = wait if timeout_ms < 0 else min(timeout_ms, wait)
            if not poller.poll(timeout_ms):
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                if line.strip():
                    try:
                        name = self._command(line)
                    except Exception as error:  # one bad command must not end the channel
                        LOG.error("control channel: command %r failed: %s", line[:200], error)
                        continue
                    if name in next_ticks:
                        next_ticks[name] = 0.0  # the new interval starts now
        with self._lock:
            self.closed = True
        LOG.info("control channel closed (the supervisor went away): stopping")
        if self.on_eof is not None:
            self.on_eof()

    def _command(self, line: bytes) -> str | None:
        """Handles one command line; returns the stream it (re)subscribed, if any."""
        try:
            message = json.loads(line)
        except ValueError:
            LOG.warning("control channel: ignoring a line that is not JSON: %r", line[:200])
            return None
        if not isinstance(message, dict):
            return None
        cmd = message.get("cmd")
        stream = None
        if cmd in self.intervals:
            try:
                # Between 0 (off) and an hour: an absurd value must not overflow the poll timeout.
                interval = min(3600.0, max(0.0, float(message.get("intervalMs", 0)) / 1000.0))
            except (TypeError, ValueError):
                LOG.warning("control channel: bad intervalMs in %r", message)
                return None
            self.intervals[cmd] = interval
            stream = cmd
            if interval:
                self._send_stream(cmd)
        elif cmd == "requestDetail" and self.request_detail is not None:
            found = self.request_detail(str(message.get("thread", "")), int(message.get("seq", 0)))
            if found is not None:
                self.send({"type": "requestDetail", **found})
        if self.on_line is not None:
            self.on_line(message, line)
        return stream

    def _send_stream(self, name: str) -> None:
        producer = self.snapshot if name == "metrics" else self.requests
        if producer is None:
            return
        try:
            items = producer()
        except Exception as error:  # a snapshot that cannot be made skips a tick, said once
            if name not in self._failed:
                self._failed.add(name)
                LOG.error("%s snapshot failed (the views get no update): %s", name, error)
            return
        self._failed.discard(name)
        for item in items if isinstance(items, list) else [items]:
            self.send({"type": name, **item})

"""Logging: the server's own messages (startup line, errors with tracebacks) go to stderr; access log lines
go to stdout. Both line-buffered.

Access lines are collected per app thread and handed over when that thread runs out of queued work, so under
load many lines share one write() while an idle server still logs each request at once. The write itself is
done by a small log-writer thread, never by an app thread: stdout is a pipe to whoever reads the log (the
VS Code supervisor, a terminal, a file), and a reader that falls behind must slow down the log, not the
server. Lines wait in a bounded list; past MAX_PENDING_LINES they are counted, dropped, and the count is
reported on stderr.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40  # logging's numbers
_LEVELS = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR}
_LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR"}


class ServerLog:
    """The server's own messages, as logging.getLogger("server3") with a StreamHandler(sys.stderr) and the
    format `[%(asctime)s] [%(levelname)s] %(message)s` wrote them, without the logging module (which, with
    the modules it pulls, costs ~0.4 MB of idle RSS). Before setup_logging, as logging does with no handler
    anywhere: warnings and errors only, the bare message. LOG.info/warning/error(msg, *args) as in logging."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.level = WARNING
        self._stream = None  # set by setup_logging
        self._lock = threading.Lock()

    def setLevel(self, level: int) -> None:
        self.level = level

    def isEnabledFor(self, level: int) -> bool:
        return level >= self.level

    def debug(self, msg, *args) -> None:
        if self.level <= DEBUG:
            self._log(DEBUG, msg, args)

    def info(self, msg, *args) -> None:
        if self.level <= INFO:
            self._log(INFO, msg, args)

    def warning(self, msg, *args) -> None:
        if self.level <= WARNING:
            self._log(WARNING, msg, args)

    def error(self, msg, *args) -> None:
        if self.level <= ERROR:
            self._log(ERROR, msg, args)

    def _log(self, level: int, msg, args: tuple) -> None:
        now = time.time_ns()
        stream = self._stream
        try:
            text = str(msg) % args if args else str(msg)
            if stream is None:
                stream = sys.stderr
            else:
                seconds, nanos = divmod(now, 1_000_000_000)
                stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
                text = f"[{stamp},{nanos // 1_000_000:03d}] [{_LEVEL_NAMES[level]}] {text}"
            with self._lock:
                stream.write(text + "\n")
                stream.flush()
        except Exception:  # as logging: a message that cannot be written must not break the server
            self._log_error(msg, args)

    @staticmethod
    def _log_error(msg, args: tuple) -> None:
        try:
            sys.stderr.write(f"--- Logging error ---\nMessage: {msg!r}\nArguments: {args!r}\n")
        except Exception:
            pass


LOG = ServerLog("server3")


def setup_logging(level: str = "info") -> None:
    try:
        sys.stderr.reconfigure(line_buffering=True)
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    if LOG._stream is None:
        LOG._stream = sys.stderr
    LOG.setLevel(_LEVELS.get(level, INFO))


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_time_cache: tuple[int, str] = (0, "")


def _log_time() -> str:
    """`24/Nov/2026:21:30:00 +0000` for the current second (UTC), formatted once per second."""
    global _time_cache
    now = int(time.time())
    cached = _time_cache
    if cached[0] != now:
        t = time.gmtime(now)
        day = f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}"
        text = f"{day}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
        cached = (now, text)
        _time_cache = cached
    return cached[1]


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class AccessLog:
    """Formats common/combined access lines; `fmt` is "off", "common" or "combined"."""

    MAX_PENDING_LINES = 50_000

    def __init__(self, fmt: str, fd: int = 1) -> None:
        self.fmt = fmt
        self.fd = fd
        self._pending: list[str] = []
        self._dropped = 0
        self._wanted = threading.Condition(threading.Lock())
        self._writing = threading.Lock()  # the writer thread and the exit flush never write at once
        self._writer: threading.Thread | None = None
        atexit.register(self.flush)

    @property
    def enabled(self) -> bool:
        return self.fmt != "off"

    def line(self, request, remote_addr: str, status_code: int, body_bytes: int) -> str:
        size = str(body_bytes) if body_bytes else "-"
        text = (
            f'{remote_addr} - - [{_log_time()}] "{_quote(request.method)} {_quote(request.target)} '
            f'{request.version}" {status_code} {size}'
        )
        if self.fmt == "combined":
            headers = request.headers
            referer = _quote(headers.get("HTTP_REFERER", "-"))
            text += f' "{referer}" "{_quote(headers.get("HTTP_USER_AGENT", "-"))}"'
        return text + "\n"

    def write(self, lines: list[str]) -> None:
        """Queues whole lines for the writer thread; never blocks on stdout."""
        with self._wanted:
            room = self.MAX_PENDING_LINES - len(self._pending)
            if len(lines) > room:
                self._dropped += len(lines) - max(room, 0)
                lines = lines[: max(room, 0)]
            self._pending.extend(lines)
            if self._writer is None:
                self._writer = threading.Thread(target=self._writer_loop, name="access-log", daemon=True)
                self._writer.start()
            self._wanted.notify()

    def flush(self) -> None:
        """At exit: writes what is still queued (the daemon writer may not get to it), without ever hanging
        the exit on a reader that stopped reading: the writer gets 2 s to finish its write, and stdout turns
        non-blocking (nothing else writes after this), so a full pipe drops the rest."""
        with self._wanted:
            lines, self._pending = self._pending, []
            dropped, self._dropped = self._dropped, 0
        if not lines and not dropped:
            return
        if not self._writing.acquire(timeout=2):
            return
        try:
            os.set_blocking(self.fd, False)
        except OSError:
            pass
        finally:
            self._writing.release()
        self._write_lines(lines, dropped)

    def _writer_loop(self) -> None:
        while True:
            with self._wanted:
                while not self._pending and not self._dropped:
                    self._wanted.wait()
                lines, self._pending = self._pending, []
                dropped, self._dropped = self._dropped, 0
            self._write_lines(lines, dropped)

    def _write_lines(self, lines: list[str], dropped: int) -> None:
        if dropped:
            LOG.warning("access log: %d lines dropped, its reader (stdout) did not keep up", dropped)
        if not lines:
            return
        # Writes of at most PIPE_BUF bytes to a pipe are atomic: with WORKERS>1 several processes share
        # stdout, so whole lines go out in pieces of at most 4096 bytes and never interleave.
        with self._writing:
            try:
                piece = b""
                for line in lines:
                    data = line.encode("utf-8", "replace")
                    if piece and len(piece) + len(data) > 4096:
                        self._write_all(piece)
                        piece = b""
                    piece += data
                if piece:
                    self._write_all(piece)
            except OSError:
                pass  # stdout closed (the supervisor went away): nothing sensible to do

    def _write_all(self, data: bytes) -> None:
        while data:
            written = os.write(self.fd, data)
            data = data[written:]

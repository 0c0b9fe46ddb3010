"""What systemd (or any supervisor speaking its protocols) passes to the server, stdlib only.

- Socket activation (`LISTEN_FDS`, `LISTEN_PID`, as sd_listen_fds(3) reads them): a listening socket opened
  by the supervisor (a `.socket` unit) arrives as descriptor 3. The server accepts on it instead of binding
  HOST:PORT, and since the supervisor keeps its own copy open, connections that arrive while the server
  restarts wait in the socket's backlog instead of being refused: a restart drops none, without
  SO_REUSEPORT. Exactly one socket is taken (one `ListenStream=`); the variables are removed from the
  environment so the app's own child processes do not take them for theirs.
- With WORKERS>1 the master takes the socket and hands the same descriptor to each worker, named by
  `SERVER3_LISTEN_FD` (internal: a worker cannot get a LISTEN_PID before it exists); they all accept on it.
- Readiness notification (`NOTIFY_SOCKET`, as sd_notify(3) sends it) for `Type=notify` units: `READY=1`
  once the server serves, `STOPPING=1` when a drain starts. Without NOTIFY_SOCKET it does nothing.
"""

from __future__ import annotations

import os
import socket

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START
WORKER_FD_VARIABLE = "SERVER3_LISTEN_FD"


class ListenFdError(Exception):
    """LISTEN_FDS is set for this process but does not hold one usable listening TCP socket."""


def _take(name: str) -> str | None:
    return os.environ.pop(name, None)


def listen_fds() -> list[int]:
    """The descriptors passed to this process (sd_listen_fds with unset_environment): [] when LISTEN_FDS is
    not set or LISTEN_PID names another process (the variables were meant for a parent). Removes
    LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES from the environment."""
    count, pid = _take("LISTEN_FDS"), _take("LISTEN_PID")
    _take("LISTEN_FDNAMES")
    if count is None or pid is None:
        return []
    if not pid.strip().isdigit() or int(pid) != os.getpid():
        return []
    if not count.strip().isdigit():
        raise ListenFdError(f"LISTEN_FDS={count!r} is not a number of descriptors")
    return list(range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)))


def listener_from_fd(fd: int, source: str) -> socket.socket:
    """A socket object for an inherited descriptor, checked to be a listening TCP (stream) socket, and made
    close-on-exec (as sd_listen_fds does: the app's child processes must not hold the server's port)."""
    try:
        os.set_inheritable(fd, False)
        sock = socket.socket(fileno=fd)
    except OSError as error:
        raise ListenFdError(f"{source}: descriptor {fd} is not a socket ({error})") from None
    try:
        stream = sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM
        listening = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) != 0
        family_ok = sock.family in (socket.AF_INET, socket.AF_INET6)
    except OSError as error:
        sock.detach()
        raise ListenFdError(f"{source}: descriptor {fd}: {error}") from None
    if not (stream and listening and family_ok):
        sock.detach()  # not ours to close
        raise ListenFdError(
            f"{source}: descriptor {fd} is not a listening TCP socket (use ListenStream=HOST:PORT)"
        )
    return sock


def inherited_listener() -> socket.socket | None:
    """The listening socket this process was given, or None (then the server binds HOST:PORT itself).
    Raises ListenFdError when it was given something else than one listening TCP socket."""
    worker_fd = _take(WORKER_FD_VARIABLE)
    if worker_fd is not None:
        if not worker_fd.isdigit():
            raise ListenFdError(f"{WORKER_FD_VARIABLE}={worker_fd!r} is not a descriptor")
        return listener_from_fd(int(worker_fd), WORKER_FD_VARIABLE)
    fds = listen_fds()
    if not fds:
        return None
    if len(fds) != 1:
        raise ListenFdError(
            f"LISTEN_FDS={len(fds)}: the server takes exactly one listening socket (one ListenStream= line)"
        )
    return listener_from_fd(fds[0], "LISTEN_FDS")


def notify(state: str) -> bool:
    """Sends `state` (e.g. "READY=1") to the supervisor's NOTIFY_SOCKET; False when there is none or it
    cannot be reached (a notification is never worth failing for)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address or address[0] not in "/@":
        return False
    if address[0] == "@":
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
        return True
    except OSError:
        return False

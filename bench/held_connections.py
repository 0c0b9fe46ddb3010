"""Counts how many of N simultaneously open keep-alive connections get an answer (wrk cannot: it never counts
a connection that is never answered). All N connect first, then each sends one GET / and the sockets stay open
until every answer arrived or the deadline passed.
"""

import selectors
import socket
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"


def _complete(buffer: bytes) -> bool:
    """True when the buffer holds a whole response (headers + Content-Length body, or a last chunk)."""
    head, sep, body = buffer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return body.endswith(b"0\r\n\r\n")


def held_connections(port: int, count: int = 256, deadline_s: float = 10.0) -> dict:
    sockets: list[socket.socket] = []
    selector = selectors.DefaultSelector()
    buffers: dict[socket.socket, bytes] = {}
    served = ok_status = 0
    connect_failed = 0
    started = time.monotonic()
    try:
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
            except OSError:
                connect_failed += 1
                continue
            sockets.append(s)
        for s in sockets:
            s.sendall(REQUEST)
            s.setblocking(False)
            buffers[s] = b""
            selector.register(s, selectors.EVENT_READ)
        end = started + deadline_s
        while buffers and time.monotonic() < end:
            for key, _ in selector.select(timeout=max(0.0, end - time.monotonic())):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                buffers[s] += data
                if _complete(buffers[s]) or not data:
                    if _complete(buffers[s]):
                        served += 1
                        ok_status += buffers[s].startswith((b"HTTP/1.1 200", b"HTTP/1.0 200"))
                    selector.unregister(s)
                    del buffers[s]
    finally:
        selector.close()
        for s in sockets:
            s.close()
    return {
        "connections": count,
        "served": served,
        "served_200": ok_status,
        "connect_failed": connect_failed,
        "seconds": round(time.monotonic() - started, 3),
    }

"""A small Debug Adapter Protocol client (the protocol VS Code speaks to debugpy): JSON messages framed by
Content-Length headers over TCP, requests answered by responses, events in between. Enough to attach, set a
breakpoint, see a thread stop and continue it, as the editor's "Start with Debugger" does."""

from __future__ import annotations

import json
import socket
import time


class DapClient:
    def __init__(self, port: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
                break
            except OSError:  # the adapter is not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.buffer = b""
        self.seq = 0
        self.events: list[dict] = []
        self.responses: dict[int, dict] = {}

    def send(self, command: str, **arguments) -> int:
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments})
        data = body.encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        return self.seq

    def _read_one(self, timeout: float) -> dict:
        self.sock.settimeout(timeout)
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = int(
            next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(
                b":"
            )[1]
        )
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        return json.loads(rest[:length])

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the debug adapter closed the connection")
        return chunk

    def _pump(self, timeout: float) -> None:
        message = self._read_one(timeout)
        if message["type"] == "response":
            self.responses[message["request_seq"]] = message
        elif message["type"] == "event":
            self.events.append(message)

    def response(self, seq: int, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while seq not in self.responses:
            self._pump(max(0.1, deadline - time.monotonic()))
        response = self.responses.pop(seq)
        assert response["success"], response
        return response

    def request(self, command: str, timeout: float = 20.0, **arguments) -> dict:
        return self.response(self.send(command, **arguments), timeout)

    def event(self, name: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"no {name} event in {timeout} s (saw {[e['event'] for e in self.events]})"
                )
            try:
                self._pump(left)
            except TimeoutError:
                continue

    def close(self) -> None:
        self.sock.close()

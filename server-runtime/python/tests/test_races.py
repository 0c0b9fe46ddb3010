"""Stress of the thread hand-offs: many clients at once over real sockets, mixing keep-alive, pipelining (a
batch of requests in one send, deep enough to pause reading), request bodies (Content-Length and chunked, some
written in pieces), Connection: close, responses larger than a socket buffer (parked and resumed) and streamed
ones (chunked framing), while the supervisor's metrics stream runs at 50 ms and SIGHUP reloads the app.

It passes only if every response reaches the connection that asked for it, in order, byte for byte (the app,
tests/apps/echo_id.py, names the request it answers and echoes its body), and if the server counted exactly
the requests the clients sent (the sum of `totals.requests` of the metrics snapshots, over all workers). On
a free-threaded CPython (`npm run test:py:ft`) the threads of the pipeline really run at once, so a hand-off
that relied on the GIL shows up here as a lost, duplicated, misrouted or miscounted response.

Bounded: each run is a fixed, seeded plan of requests (a few seconds each; under a minute for the module).
"""

from __future__ import annotations

import random
import signal
import socket
import threading

import pytest
from apps.echo_id import expected_body
from conftest import start_server

CLIENTS = 16
SESSIONS = 75  # per client: each is one connection of one kind
KINDS = ("keepalive", "pipeline", "close", "pipeline_close", "pieces")
BIG = 300_000  # a response larger than the socket buffers: it parks on EPOLLOUT and resumes
RELOADS = 5
TIMEOUT = 20.0  # per socket operation


class Framing(Exception):
    pass


class Reader:
    """Reads consecutive responses from one socket, checking the framing strictly (no lenient parser)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(262144)
        if not data:
            raise EOFError(f"the server closed the connection ({len(self.buf)} unparsed bytes)")
        self.buf += data

    def until(self, sep: bytes) -> bytes:
        while True:
            at = self.buf.find(sep)
            if at >= 0:
                out = bytes(self.buf[:at])
                del self.buf[: at + len(sep)]
                return out
            self._fill()

    def exactly(self, size: int) -> bytes:
        while len(self.buf) < size:
            self._fill()
        out = bytes(self.buf[:size])
        del self.buf[:size]
        return out

    def response(self) -> tuple[int, dict, bytes, bool]:
        """(status, headers lower-cased, body, chunked)."""
        head = self.until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        version, status, _ = head[0].split(" ", 2)
        if version != "HTTP/1.1":
            raise Framing(f"status line {head[0]!r}")
        headers: dict = {}
        for line in head[1:]:
            name, sep, value = line.partition(": ")
            if not sep or name.lower() in headers:
                raise Framing(f"bad or repeated header line {line!r}")
            headers[name.lower()] = value
        if headers.get("transfer-encoding") == "chunked":
            if "content-length" in headers:
                raise Framing("both Content-Length and chunked")
            parts = []
            while True:
                size = int(self.until(b"\r\n"), 16)
                if size == 0:
                    if self.until(b"\r\n") != b"":
                        raise Framing("trailer after the last chunk")
                    return int(status), headers, b"".join(parts), True
                parts.append(self.exactly(size))
                if self.exactly(2) != b"\r\n":
                    raise Framing("chunk not followed by CRLF")
        if "content-length" not in headers:
            raise Framing(f"no framing in {headers}")
        return int(status), headers, self.exactly(int(headers["content-length"])), False

    def expect_close(self) -> None:
        """After the last response of a Connection: close exchange: nothing more, then EOF."""
        if self.buf:
            raise Framing(f"{len(self.buf)} bytes after the last response: {bytes(self.buf[:80])!r}")
        data = self.sock.recv(65536)
        if data:
            raise Framing(f"bytes after the last response: {data[:80]!r}")


class Planned:
    """One request: its bytes on the wire (as one piece or several) and the response it must get back."""

    __slots__ = ("pieces", "req_id", "close", "stream", "body")

    def __init__(self, pieces: list[bytes], req_id: str, close: bool, stream: bool, body: bytes) -> None:
        self.pieces, self.req_id, self.close, self.stream, self.body = pieces, req_id, close, stream, body

    @property
    def wire(self) -> bytes:
        return b"".join(self.pieces)


def plan_request(rng: random.Random, req_id: str, close: bool = False, split: bool = False) -> Planned:
    roll = rng.random()
    method, body, chunked, big = "GET", b"", False, 0
    if roll < 0.30:
        method, body = rng.choice(("POST", "PUT")), rng.randbytes(rng.choice((0, 1, 100, 5000, 70_000)))
    elif roll < 0.45:
        method, body, chunked = "POST", rng.randbytes(rng.choice((1, 3000, 40_000))), True
    elif roll < 0.55:
        big = BIG
    elif roll < 0.60:
        method = "DELETE"
    stream = rng.random() < 0.2
    target = f"/{'stream' if stream else 'r'}/{req_id}" + (f"?big={big}" if big else "")
    head = [f"{method} {target} HTTP/1.1", "Host: races.test", f"X-Req-Id: {req_id}"]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        framed, at = [], 0
        while at < len(body):
            size = rng.randint(1, 9000)
            framed.append(b"%x\r\n" % len(body[at : at + size]) + body[at : at + size] + b"\r\n")
            at += size
        payload = b"".join(framed) + b"0\r\n\r\n"
    else:
        if body or method in ("POST", "PUT"):
            head.append(f"Content-Length: {len(body)}")
        payload = body
    if close:
        head.append("Connection: close")
    wire = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload
    pieces = [wire]
    if split and len(wire) > 4:  # the request in several sends: the parser sees it arrive in parts
        cuts = sorted(rng.sample(range(1, len(wire)), min(3, len(wire) - 1)))
        pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    return Planned(pieces, req_id, close, stream, body)


def check(planned: Planned, got: tuple[int, dict, bytes, bool]) -> None:
    status, headers, body, chunked = got
    method_path = planned.wire.split(b" ", 2)
    method, target = method_path[0].decode(), method_path[1].decode()
    big = int(target.rpartition("?big=")[2]) if "?big=" in target else 0
    want = expected_body(method, target, planned.req_id, planned.body, big)
    if status != 200 or headers.get("x-req-id") != planned.req_id:
        raise AssertionError(f"request {planned.req_id}: status {status}, X-Req-Id {headers.get('x-req-id')}")
    if chunked != planned.stream:
        raise AssertionError(f"request {planned.req_id}: chunked={chunked}, expected {planned.stream}")
    if body != want:
        raise AssertionError(
            f"request {planned.req_id}: body differs ({len(body)} vs {len(want)} bytes):"
            f" got {body[:80]!r}, expected {want[:80]!r}"
        )
    if planned.close != (headers.get("connection") == "close"):
        raise AssertionError(f"request {planned.req_id}: Connection header {headers.get('connection')!r}")


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # pieces go out as separate segments
    return sock


def run_session(port: int, rng: random.Random, kind: str, prefix: str) -> int:
    """One connection of one kind; returns the number of requests answered (all of them, or it raises)."""
    if kind == "close":
        count = rng.randint(1, 3)
        for i in range(count):  # a fresh connection per request
            planned = plan_request(rng, f"{prefix}.{i}", close=True)
            with connect(port) as sock:
                sock.sendall(planned.wire)
                reader = Reader(sock)
                check(planned, reader.response())
                reader.expect_close()
        return count
    with connect(port) as sock:
        reader = Reader(sock)
        if kind in ("keepalive", "pieces"):
            count = rng.randint(2, 8)
            for i in range(count):
                planned = plan_request(rng, f"{prefix}.{i}", split=kind == "pieces")
                for piece in planned.pieces:
                    sock.sendall(piece)
                check(planned, reader.response())
            return count
        # Pipelining: the whole batch in one send, from a helper thread (the server stops reading at 16
        # waiting requests and our reads must go on meanwhile); deeper than 16 sometimes, to pause reading.
        count = rng.choice((2, 3, 5, 8, 20))
        batch = [plan_request(rng, f"{prefix}.{i}") for i in range(count)]
        if kind == "pipeline_close":
            batch[-1] = plan_request(rng, f"{prefix}.{count - 1}", close=True)
        sent: list = []
        sender = threading.Thread(target=lambda: sent.append(sock.sendall(b"".join(p.wire for p in batch))))
        sender.start()
        try:
            for planned in batch:
                check(planned, reader.response())
            if kind == "pipeline_close":
                reader.expect_close()
        finally:
            sender.join(TIMEOUT)
        if sent != [None]:
            raise AssertionError(f"{prefix}: the pipelined batch was not sent whole")
        return count


def client(port: int, index: int, seed: int, start: threading.Barrier, answered: list, errors: list) -> None:
    rng = random.Random(seed * 1000 + index)
    start.wait(TIMEOUT)
    for session in range(SESSIONS):
        kind = KINDS[(index + session) % len(KINDS)]  # every kind, at once, across the clients
        try:
            answered[index] += run_session(port, rng, kind, f"c{index}s{session}")
        except Exception as error:  # reported by the test with the client and session
            errors.append(f"client {index} session {session} ({kind}): {type(error).__name__}: {error}")
            return


class ControlReader(threading.Thread):
    """Reads the control channel during the load: metrics snapshots (latest per worker, counters checked to
    never go backwards) and "reloaded" lines."""

    def __init__(self, server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.changed = threading.Condition()
        self.latest: dict[int, dict] = {}
        self.snapshots = 0
        self.reloads = 0
        self.problems: list[str] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                message = self.server.read_message(timeout=0.5)
            except TimeoutError:
                continue
            except Exception as error:  # EOF: the server died; reported by the test
                self.problems.append(f"control channel: {type(error).__name__}: {str(error)[:2000]}")
                return
            with self.changed:
                if message.get("type") == "metrics":
                    self.on_metrics(message)
                elif message.get("type") == "reloaded":
                    self.reloads += 1
                elif message.get("type") == "error":
                    self.problems.append(f"error message: {message}")
                self.changed.notify_all()

    def on_metrics(self, snap: dict) -> None:
        self.snapshots += 1
        totals = snap["totals"]
        before = self.latest.get(snap["worker"])
        if before is not None:
            for key in ("requests", "connectionsAccepted", "bytesIn", "bytesOut"):
                if totals[key] < before["totals"][key]:
                    self.problems.append(f"worker {snap['worker']}: {key} went back: {before['totals'][key]}")
        if totals["connectionsOpen"] < 0:
            self.problems.append(f"worker {snap['worker']}: negative open connections {totals}")
        self.latest[snap["worker"]] = snap

    def requests(self) -> int:
        return sum(s["totals"]["requests"] for s in self.latest.values())

    def wait_for(self, predicate, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


@pytest.mark.parametrize(
    "config, workers, seed",
    [("APP_THREADS=4\n", 1, 1), ("APP_THREADS=1\n", 1, 2), ("WORKERS=2\nAPP_THREADS=2\n", 2, 3)],
    ids=["4-app-threads", "1-app-thread", "2-workers"],
)
def test_many_clients_get_their_own_responses_and_are_counted(tmp_path, config, workers, seed):
    server = start_server(tmp_path, app="apps.echo_id", config=config + "ACCESS_LOG=common\n")
    control = ControlReader(server)
    try:
        assert server.ready["workers"] == workers
        control.start()
        server.send_command({"cmd": "metrics", "intervalMs": 50})
        assert control.wait_for(lambda: len(control.latest) == workers, 10), control.problems

        answered = [0] * CLIENTS
        errors: list[str] = []
        start = threading.Barrier(CLIENTS + 1)
        all_done = threading.Event()
        threads = [
            threading.Thread(target=client, args=(server.port, i, seed, start, answered, errors))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        start.wait(TIMEOUT)
        snapshots_at_start = control.snapshots

        def watch() -> None:
            for thread in threads:
                thread.join()
            all_done.set()

        threading.Thread(target=watch, daemon=True).start()
        # SIGHUP reloads during the load, one at a time (two quick SIGHUPs may make one reload).
        reloads = 0
        while reloads < RELOADS and not all_done.is_set():
            server.signal(signal.SIGHUP)
            reloads += 1
            assert control.wait_for(lambda n=reloads: control.reloads >= n, 15), (
                f"no 'reloaded' after SIGHUP {reloads}: {control.problems}\n{server.stderr()[-3000:]}"
            )
            all_done.wait(0.3)
        assert all_done.wait(120), "clients still running after 120 s"
        snapshots_during = control.snapshots - snapshots_at_start

        assert errors == [], "\n".join(errors[:10]) + f"\nserver stderr:\n{server.stderr()[-3000:]}"
        sent = sum(answered)
        assert sent >= CLIENTS * SESSIONS
        assert reloads >= 1 and snapshots_during >= 2, (reloads, snapshots_during)

        # Every response was sent before the client read it, but counted just after: wait for the count to
        # reach what the clients sent, then it must be exactly that (a double count would overshoot).
        control.wait_for(lambda: control.requests() >= sent, 10)
        seen = control.snapshots  # two more rounds of snapshots: an overshoot would show in them
        control.wait_for(lambda: control.snapshots >= seen + 2 * workers, 5)
        assert control.requests() == sent, (
            f"server counted {control.requests()} requests"
            f" ({ {w: s['totals']['requests'] for w, s in control.latest.items()} } per worker),"
            f" clients sent {sent}"
        )
        assert control.problems == []
        for worker, snap in control.latest.items():  # at rest, each worker's counters agree with each other
            totals = snap["totals"]
            assert sum(totals["latency"]["counts"]) == totals["status"]["2xx"] == totals["requests"], (
                f"worker {worker}: {totals}"
            )
        print(f"{sent} requests, {reloads} reloads, {snapshots_during} snapshots during the load")

        status, _, body = server.request("GET", "/r/after", headers={"X-Req-Id": "after"})
        assert (status, body) == (200, b"GET /r/after after 0\n")
        stderr = server.stderr()
        assert "internal error" not in stderr and "Traceback" not in stderr, stderr[-3000:]
        server.signal(signal.SIGTERM)
        assert server.wait(30) == 0, server.stderr()[-3000:]
    finally:
        control.running = False
        server.kill()
        control.join(5)

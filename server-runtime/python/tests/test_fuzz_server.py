"""Fuzzing the running server through real sockets: the same structured mutations as test_fuzz_parser.py
(see fuzzing.py), each case sent on a fresh connection in random pieces, then half-closed.

For every case the server must answer within a bounded time (a hang fails), with exactly the responses the
in-process parser predicts for that stream: one 200 per request up to the first one that closes the
connection, then the refusal's status if the stream was refused. After all cases every stage still runs and
nothing was an internal error (the fixture's end check, plus the log)."""

import errno
import http.client
import io
import re
import socket

import pytest
from fuzzing import CASES, MAX_BODY_SIZE, MAX_HEADER_SIZE, build, cases, examples
from hypothesis import HealthCheck, given, settings
from Server_3_free_threads.parser import RequestParser

INTERIM = re.compile(rb"(?:HTTP/1\.1 1[0-9][0-9] [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n)*")
CASE_TIMEOUT = 10.0  # seconds for one case; generous (a loaded 2-core machine), a hang is what it catches


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    from conftest import start_server

    server = start_server(
        tmp_path_factory.mktemp("fuzz"),
        app="apps.fuzz_echo",
        config=f"MAX_HEADER_SIZE={MAX_HEADER_SIZE}\nMAX_BODY_SIZE={MAX_BODY_SIZE}\nAPP_THREADS=2\n"
        "REQUEST_TIMEOUT=5\nACCESS_LOG=off\n",
    )
    yield server
    log = server.stderr()
    server.close()
    assert "internal error" not in log and "died" not in log, log[-5000:]


def expected_statuses(data: bytes) -> list[tuple[str, int]]:
    """(method, status) of each response the server must send for this stream."""
    out = []
    for request in RequestParser(MAX_HEADER_SIZE, MAX_BODY_SIZE).feed(data):
        if request.error is not None:
            out.append(("GET", request.error.status))  # an error page has a body whatever the method
            break
        out.append((request.method, 200))
        if not request.keep_alive:
            break
    return out


def ends_the_connection(data: bytes) -> bool:
    """Whether the stream holds a request that closes the connection, or a refusal."""
    requests = RequestParser(MAX_HEADER_SIZE, MAX_BODY_SIZE).feed(data)
    return any(r.error is not None or not r.keep_alive for r in requests)


class _Unclosable(io.BytesIO):
    def close(self) -> None:  # http.client closes its file after each response: these share one
        pass


class _Wire:
    def __init__(self, data: bytes) -> None:
        self.file = _Unclosable(data)

    def makefile(self, *args, **kwargs):
        return self.file


def responses(data: bytes, methods: list[str], truncated: bool = False) -> list[int]:
    """The statuses of the final responses in `data` (1xx interim responses skipped). `truncated`: the
    connection was reset, so the last response may be cut short (it is not counted then)."""
    wire = _Wire(data)
    statuses = []
    for method in methods:
        while True:
            if wire.file.tell() == len(data):
                return statuses
            response = http.client.HTTPResponse(wire, method=method)
            try:
                response.begin()
                response.read()
            except (http.client.HTTPException, ValueError):
                if truncated:
                    return statuses
                raise
            if response.status >= 200:
                statuses.append(response.status)
                break
    # Only interim responses may follow: "100 Continue" to a request whose body never came whole.
    rest = wire.file.read()
    assert INTERIM.fullmatch(rest), f"more responses than requests: {rest[:200]!r}"
    return statuses


def exchange(server, chunks: list[bytes]) -> tuple[bytes, bool]:
    """Sends the pieces, half-closes, reads until the server closes: (what came back, was it reset)."""
    sock = socket.create_connection((server.host, server.port), timeout=CASE_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received = []
    reset = False
    try:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError, OSError) as error:
            # The server refused the stream (or took a "Connection: close" at its word) and closed while we
            # were still sending: what we sent after that is answered by a reset.
            reset = (
                isinstance(error, (BrokenPipeError, ConnectionResetError)) or error.errno == errno.ENOTCONN
            )
            if not reset:
                raise
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                reset = True
                break
            except TimeoutError:
                raise AssertionError(f"the server hung: no close within {CASE_TIMEOUT} s") from None
            if not data:
                break
            received.append(data)
    finally:
        sock.close()
    return b"".join(received), reset


@settings(
    max_examples=examples("server", 1500),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    print_blob=True,
)
@given(case=cases)
def test_the_server_answers_every_mutated_stream_as_its_parser_predicts(fuzz_server, case):
    CASES["server"] += 1
    data, chunks = build(case)
    want = expected_statuses(data)
    received, reset = exchange(fuzz_server, chunks)
    lenient = reset and ends_the_connection(data)
    got = responses(received, [method for method, _ in want], truncated=lenient)
    statuses = [status for _, status in want]
    if lenient:
        # The stream went on after a request that closes the connection (or after a refusal), which a client
        # must not do (RFC 9112 9.6): the server closes, the rest is reset, and a reset may destroy responses
        # still in flight. What arrived must still be exactly the start of what was due.
        assert got == statuses[: len(got)]
    else:
        assert got == statuses

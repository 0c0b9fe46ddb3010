"""Fuzzing the running server through real sockets: the same structured mutations as test_fuzz_parser.py
(see fuzzing.py), each case sent on a fresh connection in random pieces, then half-closed.

For every case the server must answer within a bounded time (a hang fails), with exactly the responses the
in-process parser predicts for that stream: one 200 per request up to the first one that closes the
connection, then the refusal's status if the stream was refused. After all cases every stage still runs and
nothing was an internal error (the fixture's end check, plus the log)."""

import http.client
import io
import socket

import pytest
from fuzzing import CASES, MAX_BODY_SIZE, MAX_HEADER_SIZE, build, cases, examples
from hypothesis import HealthCheck, given, settings
from Server_3_free_threads.parser import RequestParser

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


class _Unclosable(io.BytesIO):
    def close(self) -> None:  # http.client closes its file after each response: these share one
        pass


class _Wire:
    def __init__(self, data: bytes) -> None:
        self.file = _Unclosable(data)

    def makefile(self, *args, **kwargs):
        return self.file


def responses(data: bytes, methods: list[str]) -> list[int]:
    """The statuses of the final responses in `data` (1xx interim responses skipped)."""
    wire = _Wire(data)
    statuses = []
    for method in methods:
        while True:
            if wire.file.tell() == len(data):
                return statuses
            response = http.client.HTTPResponse(wire, method=method)
            response.begin()
            response.read()
            if response.status >= 200:
                statuses.append(response.status)
                break
    assert wire.file.read() == b"", "more responses than requests"
    return statuses


def exchange(server, chunks: list[bytes]) -> bytes:
    sock = socket.create_connection((server.host, server.port), timeout=CASE_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    received = []
    try:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused the stream and closed: its answer is already on the way
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            except TimeoutError:
                raise AssertionError(f"the server hung: no close within {CASE_TIMEOUT} s") from None
            if not data:
                break
            received.append(data)
    finally:
        sock.close()
    return b"".join(received)


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
    got = responses(exchange(fuzz_server, chunks), [method for method, _ in want])
    assert got == [status for _, status in want]

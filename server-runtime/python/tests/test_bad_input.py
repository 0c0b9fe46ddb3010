"""Bad input gets the right status, never hangs a thread, and the server keeps serving everyone else."""

import socket
import time

import pytest
from conftest import ResponseReader, read_response, recv_until_closed


def send_raw(server, wire: bytes) -> bytes:
    sock = server.raw_socket()
    sock.sendall(wire)
    data = recv_until_closed(sock)
    sock.close()
    return data


def status_of(data: bytes) -> int:
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data[9:12])


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    from conftest import start_server

    server = start_server(
        tmp_path_factory.mktemp("strict"),
        app="apps.basic",
        config="MAX_HEADER_SIZE=2048\nMAX_BODY_SIZE=1000\nREQUEST_TIMEOUT=1\nKEEPALIVE_TIMEOUT=5\n",
    )
    yield server
    server.close()


@pytest.mark.parametrize(
    "wire, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),  # HTTP/0.9 style
        (b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400),  # the 0.2.x crash
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET nope HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
    ],
)
def test_malformed_requests_get_4xx_5xx_and_close(strict_server, wire, status):
    data = send_raw(strict_server, wire)
    assert status_of(data) == status, data
    assert b"Connection: close" in data
    assert strict_server.request("GET", "/")[2] == b"Hello, world!"


def test_too_large_headers_get_431(strict_server):
    data = send_raw(strict_server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 3000 + b"\r\n\r\n")
    assert status_of(data) == 431
    # also when the terminator never comes
    data = send_raw(strict_server, b"GET /" + b"a" * 5000)
    assert status_of(data) == 431


def test_too_large_body_gets_413_without_reading_it(strict_server):
    data = send_raw(strict_server, b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    assert status_of(data) == 413
    sock = strict_server.raw_socket()
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.sendall(b"200\r\n" + b"x" * 512 + b"\r\n" + b"300\r\n" + b"y" * 768 + b"\r\n0\r\n\r\n")
    assert status_of(recv_until_closed(sock)) == 413
    sock.close()


def test_body_at_the_limit_is_fine(strict_server):
    status, _, body = strict_server.request("POST", "/echo", body=b"k" * 1000)
    assert (status, body) == (200, b"k" * 1000)


def test_smuggling_attempt_is_not_split_into_two_requests(strict_server):
    # CL.TE: a front end honouring Content-Length would see one request; we refuse it outright
    wire = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /method HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    data = send_raw(strict_server, wire)
    assert status_of(data) == 400
    assert data.count(b"HTTP/1.1 ") == 1  # no second response for the smuggled request


def test_error_after_good_pipelined_request_keeps_order(strict_server):
    sock = strict_server.raw_socket()
    sock.sendall(b"GET /method HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n")
    reader = ResponseReader(sock)
    assert reader.read()[2] == b"GET"
    assert reader.read()[0] == 400
    sock.close()


def test_slow_request_times_out_with_408(strict_server):
    sock = strict_server.raw_socket()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
    started = time.monotonic()
    data = recv_until_closed(sock)
    assert status_of(data) == 408
    assert 0.8 < time.monotonic() - started < 4
    sock.close()


def test_slow_body_times_out_and_holds_no_app_thread(strict_server):
    socks = []
    for _ in range(6):  # more than the 4 app threads
        sock = strict_server.raw_socket()
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
        socks.append(sock)
    started = time.monotonic()
    assert strict_server.request("GET", "/")[2] == b"Hello, world!"
    assert time.monotonic() - started < 0.5
    for sock in socks:
        assert status_of(recv_until_closed(sock)) == 408
        sock.close()


def test_idle_connections_hold_no_thread(server_factory):
    """50 connections that send nothing are held by epoll, not by a thread: requests are answered while all
    of them are still open. (Were they holding threads, the requests would wait until the server closes
    them at its 30 s timeouts. No wall-clock bound: on a loaded machine the requests may be slow; the point
    is that the idle connections did not have to go first.)"""
    server = server_factory(
        app="apps.basic", config="APP_THREADS=2\nREQUEST_TIMEOUT=30\nKEEPALIVE_TIMEOUT=30\n"
    )
    idle = [server.raw_socket() for _ in range(50)]
    for _ in range(5):
        assert server.request("GET", "/")[2] == b"Hello, world!"
    for sock in idle:
        sock.setblocking(False)
        try:
            assert sock.recv(1) != b"", "an idle connection was closed before the requests"
        except BlockingIOError:
            pass  # still open, nothing to read: as expected
        sock.close()


def test_client_disconnecting_mid_request_is_cleaned_up(strict_server):
    for _ in range(20):
        sock = strict_server.raw_socket()
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\npartial")
        sock.close()
    time.sleep(0.3)
    assert strict_server.request("GET", "/")[2] == b"Hello, world!"


def test_client_disconnecting_mid_response_is_cleaned_up(basic_server):
    for _ in range(5):
        sock = basic_server.raw_socket()
        sock.sendall(b"GET /big?kb=16384 HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(1000)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # RST while the server is parked on a full buffer
    time.sleep(0.5)
    assert basic_server.request("GET", "/")[2] == b"Hello, world!"


def test_app_exception_gives_500_and_logs_the_traceback(basic_server):
    for path in ("/error", "/error-after-start"):
        status, _, body = basic_server.request("GET", path)
        assert status == 500 and b"Internal Server Error" in body
    assert "RuntimeError: this route fails on purpose" in basic_server.stderr()
    assert "the iterable fails before its first chunk" in basic_server.stderr()
    # the app threads live on
    for _ in range(10):
        assert basic_server.request("GET", "/")[2] == b"Hello, world!"


def test_app_exception_mid_stream_cuts_the_connection(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET /error-mid-stream HTTP/1.1\r\nHost: x\r\n\r\n")
    data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert not data.endswith(b"0\r\n\r\n")  # no clean end of a chunked body: the client sees the failure
    assert "the iterable fails mid-stream" in basic_server.stderr()
    assert basic_server.request("GET", "/")[2] == b"Hello, world!"


def test_a_slow_app_does_not_stall_other_requests(basic_server):
    import threading

    results = []
    slow = threading.Thread(target=lambda: results.append(basic_server.request("GET", "/sleep?ms=1500")))
    slow.start()
    time.sleep(0.1)
    started = time.monotonic()
    for _ in range(10):
        assert basic_server.request("GET", "/")[2] == b"Hello, world!"
    assert time.monotonic() - started < 1.0
    slow.join()
    assert results[0][2] == b"slept"


def test_header_with_underscore_is_dropped(basic_server):
    import json

    sock = basic_server.raw_socket()
    sock.sendall(b"GET /environ HTTP/1.1\r\nHost: x\r\nX-Real-IP: 1.1.1.1\r\nX_Real_IP: 6.6.6.6\r\n\r\n")
    status, _, body = read_response(sock)
    assert json.loads(body)["HTTP_X_REAL_IP"] == "1.1.1.1"
    sock.close()


def test_max_connections_makes_new_clients_wait_not_fail(server_factory):
    server = server_factory(config="MAX_CONNECTIONS=3\n")
    first, second, other = server.raw_socket(), server.raw_socket(), server.raw_socket()
    first.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(first)[2] == b"Hello, world!"
    time.sleep(0.2)
    third = server.raw_socket(timeout=5)  # the kernel completes the handshake; we do not accept yet
    third.sendall(b"GET /method HTTP/1.1\r\nHost: x\r\n\r\n")
    third.settimeout(0.5)
    with pytest.raises(TimeoutError):
        third.recv(100)
    second.close()  # a slot frees up: the waiting client is accepted and served
    third.settimeout(5)
    assert read_response(third)[2] == b"GET"
    for sock in (first, third, other):
        sock.close()


def test_client_that_stops_reading_is_dropped_after_send_timeout(server_factory):
    server = server_factory(config="SEND_TIMEOUT=1\n")
    sock = server.raw_socket(timeout=10)
    sock.sendall(b"GET /big?kb=65536 HTTP/1.1\r\nHost: x\r\n\r\n")  # 64 MiB: far more than the buffers hold
    deadline = time.monotonic() + 10  # not reading: the response stays parked past SEND_TIMEOUT
    while "SEND_TIMEOUT" not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "SEND_TIMEOUT" in server.stderr()
    received = recv_until_closed(sock)  # what was buffered, then the end: the server gave up
    assert 0 < len(received) < 64 * 1024 * 1024
    assert server.request("GET", "/")[2] == b"Hello, world!"
    sock.close()


def test_expect_continue_with_a_too_large_body_gets_413_not_100(strict_server):
    sock = strict_server.raw_socket()
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    data = recv_until_closed(sock)
    assert status_of(data) == 413 and b"100 Continue" not in data
    sock.close()

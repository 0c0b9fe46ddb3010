"""Clients that reset the connection (RST, not FIN) at every stage of a request: before sending, in the
middle of the head, in the middle of the body, while the app runs, while a response is parked on a full
socket, and while the close thread lingers. Each costs its connection only: the server keeps serving, every
connection is closed and counted (none leaked against MAX_CONNECTIONS), and nothing is an internal error."""

import socket
import struct
import time

import pytest


def reset(sock: socket.socket) -> None:
    """close() with SO_LINGER 0: the kernel sends RST instead of FIN and drops unsent data."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import start_server

    server = start_server(
        tmp_path_factory.mktemp("resets"),
        app="apps.hostile",
        config="APP_THREADS=2\nKEEPALIVE_TIMEOUT=5\nSEND_TIMEOUT=5\n",
    )
    yield server
    server.close()


def connect(server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((server.host, server.port))
    return sock


def reset_before_sending(server):
    reset(connect(server))


def reset_in_the_head(server):
    sock = connect(server)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nX-Half: ")
    time.sleep(0.05)
    reset(sock)


def reset_in_the_body(server):
    sock = connect(server)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n" + b"b" * 5000)
    time.sleep(0.05)
    reset(sock)


def reset_in_a_large_body(server):  # a body being spilled to a temporary file
    sock = connect(server)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5000000\r\n\r\n" + b"b" * 2_000_000)
    time.sleep(0.05)
    reset(sock)


def reset_while_the_app_runs(server):
    sock = connect(server)
    sock.sendall(b"GET /sleep?ms=300 HTTP/1.1\r\nHost: h\r\n\r\n")
    time.sleep(0.05)
    reset(sock)


def reset_while_the_response_is_parked(server):
    sock = connect(server, rcvbuf=4096)
    sock.sendall(b"GET /big?kb=8192 HTTP/1.1\r\nHost: h\r\n\r\n")
    sock.recv(1000)
    time.sleep(0.3)  # the server fills the socket and parks the response
    reset(sock)


def reset_while_lingering(server):
    # A 400 with input after it: the close thread half-closes and drains (lingers); then the client resets.
    sock = connect(server)
    sock.sendall(b"BAD REQUEST\r\n\r\n" + b"x" * 1000)
    sock.recv(1000)
    time.sleep(0.05)
    reset(sock)


def reset_between_pipelined_requests(server):
    sock = connect(server)
    sock.sendall(b"GET /sleep?ms=50 HTTP/1.1\r\nHost: h\r\n\r\n" * 5)
    sock.recv(100)
    reset(sock)


STAGES = [
    reset_before_sending,
    reset_in_the_head,
    reset_in_the_body,
    reset_in_a_large_body,
    reset_while_the_app_runs,
    reset_while_the_response_is_parked,
    reset_while_lingering,
    reset_between_pipelined_requests,
]


@pytest.mark.parametrize("stage", STAGES, ids=[s.__name__ for s in STAGES])
def test_a_reset_costs_only_its_connection(server, stage):
    for _ in range(3):
        stage(server)
    assert server.request("GET", "/")[0] == 200
    assert server.wait_all_closed(15) == 0, "a reset connection was never closed"
    assert "internal error" not in server.stderr()

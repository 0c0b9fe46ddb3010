"""The close thread's lingering close with many connections at once: after a refused request (input still
coming), the server half-closes and drains each connection until its client closes or LINGER_SECONDS (2 s)
pass. Clients that close early end their linger at once; the others are closed at their deadline, whatever
the order they came in. Every connection is counted closed exactly once."""

import socket
import time

from conftest import recv_until_closed


def test_many_lingering_connections_end_at_the_client_close_or_their_deadline(server_factory):
    server = server_factory(app="apps.hostile")
    quick, slow = [], []
    for i in range(120):
        sock = server.raw_socket(timeout=10)
        # A refused request with more input behind it: the server answers 400 and lingers (drains).
        sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
        (quick if i % 2 else slow).append(sock)
    for sock in quick + slow:
        assert sock.recv(12) == b"HTTP/1.1 400"
    started = time.monotonic()
    for sock in quick:  # these end their linger now
        sock.close()
    deadline = time.monotonic() + 10
    while server.snapshot()["totals"]["connectionsOpen"] > len(slow) and time.monotonic() < deadline:
        time.sleep(0.05)
    quick_done = time.monotonic() - started
    # Generous bound (a loaded 2-core machine), but well under the 2 s linger: they did not wait for it.
    assert server.snapshot()["totals"]["connectionsOpen"] == len(slow) and quick_done < 1.5, quick_done
    for sock in slow:  # these never close: the server closes them at their linger deadline
        assert recv_until_closed(sock).endswith(b"\n")  # the rest of the 400 page, then the server's FIN
    while server.snapshot()["totals"]["connectionsOpen"] and time.monotonic() < deadline:
        time.sleep(0.05)
    slow_done = time.monotonic() - started
    totals = server.snapshot()["totals"]
    assert totals["connectionsOpen"] == 0 and totals["connectionsAccepted"] >= 120
    # At the deadline, LINGER_SECONDS (2 s) after the 400: not at once, not never. The upper bound leaves
    # 0.9 s for a loaded machine (the close thread wakes at the deadline itself; snapshots come every 50 ms).
    assert 1.5 < slow_done < 2.9, slow_done
    for sock in slow:
        sock.close()


def test_a_linger_deadline_left_from_a_closed_connection_closes_nothing_else(server_factory):
    # A connection that lingered and closed early frees its descriptor number, and a new connection may get
    # it while the old linger's deadline is still queued: when it comes up it must close nothing.
    server = server_factory(app="apps.hostile", config="KEEPALIVE_TIMEOUT=30\n")
    for _ in range(20):
        sock = server.raw_socket()
        sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
        assert sock.recv(12) == b"HTTP/1.1 400"
        sock.close()
    keep = [server.raw_socket() for _ in range(20)]  # likely on the freed numbers
    time.sleep(2.5)  # past every old linger deadline
    for sock in keep:  # still open and served: no old deadline closed them
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert sock.recv(12) == b"HTTP/1.1 200"
        sock.close()


def test_close_of_an_idle_keep_alive_connection_is_not_lingering(server_factory):
    server = server_factory(app="apps.hostile", config="KEEPALIVE_TIMEOUT=1\n")
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert sock.recv(12) == b"HTTP/1.1 200"
    started = time.monotonic()
    recv_until_closed(sock)  # the keep-alive timeout closes it
    assert time.monotonic() - started < 5
    sock.close()


def test_a_detached_connection_is_never_registered_again():
    # Once the close thread detached a connection, a late update_events() from an app thread (a response
    # finishing) must not put its descriptor back into the read thread's epoll: after the close, that number
    # may belong to a new client.
    import select

    from Server_3_free_threads.connection import Connection
    from Server_3_free_threads.parser import RequestParser

    ours, theirs = socket.socketpair()
    epoll = select.epoll()
    conn = Connection(ours, ("127.0.0.1", 1), RequestParser(1024, 0), epoll, 0.0)
    with conn.lock:
        assert conn.update_events() and conn.registered
    conn.detach()
    assert conn.closing and not conn.registered
    with conn.lock:
        conn.parked = True  # what an app thread does before it asks for EPOLLOUT
        assert conn.update_events()
    assert not conn.registered
    theirs.sendall(b"x")
    assert epoll.poll(0.05) == []  # not watched any more
    for item in (ours, theirs, epoll):
        item.close()


def test_input_during_the_linger_is_drained_and_the_linger_goes_on(server_factory):
    # The client keeps sending after our FIN (a slow uploader behind a refused request): the close thread
    # reads and discards it and keeps lingering until the client closes or the deadline. Closing at the first
    # input instead would leave it unread, and the kernel would answer the client with a RST.
    server = server_factory(app="apps.hostile")
    sock = server.raw_socket(timeout=10)
    sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
    assert recv_until_closed(sock).startswith(b"HTTP/1.1 400")  # the whole 400, then our FIN
    for _ in range(5):  # more input, in several reads of the close thread
        sock.sendall(b"y" * 4096)
        time.sleep(0.05)
    # And far more than the socket buffers hold (a few MiB): it only gets through if it is being read.
    sock.sendall(b"z" * (32 << 20))
    # Well inside the 2 s linger that began before our FIN: the connection is still open (being drained).
    assert server.snapshot()["totals"]["connectionsOpen"] == 1
    assert sock.recv(1) == b""  # still only our FIN: no RST from a close with unread input
    sock.close()
    assert server.wait_all_closed() == 0  # our close ends the linger


def test_each_linger_ends_at_its_own_deadline(server_factory):
    # Two lingering connections whose deadlines are 0.5 s apart: the close thread sleeps until the sooner
    # one, closes it, then sleeps exactly until the other (not a fixed step, not until the later one first).
    server = server_factory(app="apps.hostile")

    def linger():  # a refused request: the server answers 400 and lingers for the rest (2 s)
        sock = server.raw_socket(timeout=10)
        sock.sendall(b"BROKEN\r\n\r\n" + b"x" * 100)
        assert sock.recv(12) == b"HTTP/1.1 400"
        return sock

    first_sent = time.monotonic()
    first = linger()
    cpu_before = server.thread("close")["cpuSeconds"]
    time.sleep(0.5)
    second = linger()
    closed_at = {}
    deadline = time.monotonic() + 10
    while len(closed_at) < 2 and time.monotonic() < deadline:
        open_now = server.snapshot()["totals"]["connectionsOpen"]
        for count in (1, 0):
            if open_now <= count:
                closed_at.setdefault(count, time.monotonic())
        time.sleep(0.02)
    gap = closed_at[0] - closed_at[1]
    # 0.5 s apart, as their deadlines: the bounds leave 0.25-0.35 s for a loaded machine's snapshots.
    assert 0.25 < gap < 0.85, gap
    assert "internal error" not in server.stderr()  # each deadline closed its own connection
    # The first linger lasted LINGER_SECONDS (2 s) from its 400, which came after `first_sent`: not less; the
    # upper bound leaves 0.8 s for a loaded machine.
    assert 1.95 < closed_at[1] - first_sent < 2.8, closed_at[1] - first_sent
    # Sleeping, not polling, in between: 2.5 s of lingering cost next to no CPU (a spinning loop: 1 s+).
    assert server.thread("close")["cpuSeconds"] - cpu_before < 0.2
    first.close()
    second.close()

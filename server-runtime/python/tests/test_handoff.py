"""The hand-offs between the pipeline's threads under load: no lost wake-up, the adaptive app pool still
overlaps slow requests, and batches of many connections are all answered."""

import socket
import threading
import time

from conftest import read_response


def _close_requests(port: int, count: int, errors: list) -> None:
    for _ in range(count):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                status, _, body = read_response(sock)
                if (status, body) != (200, b"Hello, world!"):
                    errors.append((status, body))
        except OSError as error:
            errors.append(error)


def test_server_still_answers_after_a_connection_close_burst(server_factory):
    # A lost eventfd wake-up (Wakeup.consume clearing its flag before reading) once left the read and close
    # threads asleep for good after a burst like this one.
    server = server_factory(config="APP_THREADS=4\n")
    errors: list = []
    workers = [threading.Thread(target=_close_requests, args=(server.port, 150, errors)) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    status, _, body = server.request("GET", "/")
    assert (status, body) == (200, b"Hello, world!")


def test_slow_requests_overlap_across_app_threads(server_factory):
    # The pool wakes extra threads only when requests are slow; 8 concurrent 300 ms requests on 8 threads
    # must still overlap (about 0.3 s, not 2.4 s).
    server = server_factory(config="APP_THREADS=8\n")
    server.request("GET", "/sleep?ms=300")  # teaches the pool that requests are slow
    results: list = []

    def one() -> None:
        results.append(server.request("GET", "/sleep?ms=300")[0])

    started = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    elapsed = time.monotonic() - started
    assert results == [200] * 8
    assert elapsed < 1.5, elapsed


def test_a_batch_of_many_keep_alive_connections_is_answered(server_factory):
    server = server_factory(config="APP_THREADS=2\n")
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(100)]
    try:
        for _ in range(3):
            for sock in socks:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            for sock in socks:
                status, _, body = read_response(sock)
                assert (status, body) == (200, b"Hello, world!")
    finally:
        for sock in socks:
            sock.close()


# ---- AppPool on its own (in-process): the wake-up decisions the socket tests above depend on ----


def _pool(size: int = 4):
    from Server_3_free_threads.handoff import AppPool

    pool = AppPool(size, gil=True)
    pool.active = 0  # every thread asleep on its token
    return pool


def test_submit_wakes_one_sleeping_thread_for_fast_work():
    pool = _pool()
    pool.submit(["request"])
    assert pool.active == 1 and pool._tokens.qsize() == 1
    pool.submit(["another"])  # one thread is awake already: fast work needs no second one
    assert pool.active == 1 and pool._tokens.qsize() == 1


def test_submit_wakes_about_one_thread_per_budget_of_slow_work():
    pool = _pool(size=8)
    pool.service = 0.004  # 4 ms per item: 6 items = 24 ms of work, about one thread per 5 ms budget
    pool.submit(["r"] * 6)
    assert pool.active == 5 and pool._tokens.qsize() == 5  # 1 + int(24 / 5), at most one per item


def test_kick_wakes_one_more_thread_only_when_no_item_finished_since_the_last_kick():
    pool = _pool()
    pool.kick(5)  # first call: remembers the count, wakes nobody
    assert pool._tokens.qsize() == 0
    pool.kick(6)  # progress since: nobody more
    assert pool._tokens.qsize() == 0
    pool.kick(6)  # no progress for KICK_AFTER: one more thread
    assert pool._tokens.qsize() == 1 and pool.active == 1


def test_wakeup_eventfd_never_blocks_and_is_not_inherited():
    # consume() runs after every poll, woken or not (the main loop's once-a-second tick): a blocking eventfd
    # would hold that thread in read() until the next wake-up. A child process (the app's) must not get it.
    import os

    from Server_3_free_threads.handoff import Wakeup

    wakeup = Wakeup()
    try:
        assert not os.get_blocking(wakeup.fd) and not os.get_inheritable(wakeup.fd)
        wakeup.consume()  # nothing pending: returns at once
        wakeup.wake()
        wakeup.consume()
        assert not wakeup._pending
    finally:
        wakeup.close()

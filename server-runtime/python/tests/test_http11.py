"""HTTP/1.1 behaviour over real sockets: keep-alive, pipelining, HEAD, HTTP/1.0, chunked bodies both ways,
Expect: 100-continue, large responses to slow readers (EPOLLOUT parking), sendfile."""

import email.utils
import json
import os
import socket
import time

from conftest import ResponseReader, read_response, recv_until_closed


def test_hello_and_date_header(basic_server):
    status, headers, body = basic_server.request("GET", "/")
    assert (status, body) == (200, b"Hello, world!")
    assert headers["content-length"] == "13"
    assert headers["date"].endswith("GMT")
    # The date is now, in RFC 9110's IMF-fixdate (day and month names included: a wrong index shows here).
    sent = email.utils.parsedate_to_datetime(headers["date"])
    assert abs(sent.timestamp() - time.time()) < 5, headers["date"]
    assert headers["date"] == email.utils.format_datetime(sent, usegmt=True), headers["date"]


def test_keep_alive_is_the_default_for_http11(basic_server):
    conn = basic_server.connection()
    for _ in range(5):
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.read() == b"Hello, world!"
        assert response.getheader("Connection") is None
    sock_before = conn.sock
    conn.request("GET", "/method")
    assert conn.getresponse().read() == b"GET"
    assert conn.sock is sock_before  # the same TCP connection served all six
    conn.close()


def test_connection_close_is_honoured(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = recv_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nConnection: close\r\n" in data
    assert data.endswith(b"Hello, world!")


def open_sockets(pid: int) -> int:
    """How many sockets the process holds (its listening socket included)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return count


def test_client_asked_close_frees_the_servers_socket_at_once(server_factory):
    # A client that sent "Connection: close" has nothing more to send, so the close thread closes at once
    # instead of lingering (2 s) for input that cannot come. The clients here keep their own side open.
    server = server_factory(app="apps.basic")
    baseline = open_sockets(server.proc.pid)
    clients = []
    for version, header in (("HTTP/1.1", "Connection: close\r\n"), ("HTTP/1.0", "")):
        for _ in range(10):
            sock = server.raw_socket()
            sock.sendall(f"GET / {version}\r\nHost: x\r\n{header}\r\n".encode())
            assert recv_until_closed(sock).endswith(b"Hello, world!")  # whole response, then our FIN
            clients.append(sock)
    deadline = time.monotonic() + 1.0  # well under LINGER_SECONDS
    while open_sockets(server.proc.pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    assert open_sockets(server.proc.pid) <= baseline
    for sock in clients:
        sock.close()


def test_input_after_a_close_request_still_gets_the_whole_response(server_factory):
    # Bytes after a "Connection: close" request (a pipelining client) must not turn our close into a RST that
    # destroys the response in flight: the server lingers and drains them.
    server = server_factory(app="apps.basic")
    for _ in range(20):
        sock = server.raw_socket()
        sock.sendall(
            b"GET /big?kb=512 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"
        )
        time.sleep(0.01)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
        data = recv_until_closed(sock)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and len(body) == 512 * 1024, (head, len(body))
        sock.close()


def test_http10_closes_unless_keep_alive_asked(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = recv_until_closed(sock)
    assert data.endswith(b"Hello, world!") and b"Connection: close" in data

    sock = basic_server.raw_socket()
    reader = ResponseReader(sock)
    for _ in range(3):
        sock.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        status, headers, body = reader.read()
        assert (status, body, headers["connection"]) == (200, b"Hello, world!", "keep-alive")
    sock.close()


def test_http10_stream_without_length_is_close_delimited(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET /stream?n=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    data = recv_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Connection: close" in head
    assert body == b"chunk 0\nchunk 1\nchunk 2\n"


def test_pipelined_requests_come_back_in_order(basic_server):
    sock = basic_server.raw_socket()
    paths = ["/sleep?ms=150", "/method", "/echo", "/sleep?ms=10", "/"]
    wire = b""
    for path in paths:
        if path == "/echo":
            wire += b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
        else:
            wire += f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sock.sendall(wire)  # all at once: one recv() holds several requests
    reader = ResponseReader(sock)
    bodies = [reader.read()[2] for _ in paths]
    assert bodies == [b"slept", b"GET", b"abcde", b"slept", b"Hello, world!"]
    sock.close()


def test_pipelined_requests_split_at_every_byte(basic_server):
    sock = basic_server.raw_socket()
    wire = b"GET /method HTTP/1.1\r\nHost: x\r\n\r\n"
    wire += b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(wire)):
        sock.send(wire[i : i + 1])
        if i % 16 == 0:
            time.sleep(0.002)  # let the server see partial reads
    reader = ResponseReader(sock)
    assert reader.read()[2] == b"GET"
    assert reader.read()[2] == b"xyz"
    sock.close()


def test_head_has_headers_but_no_body(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /method HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = ResponseReader(sock)
    status, headers, body = reader.read("HEAD")
    assert (status, headers["content-length"], body) == (200, "13", b"")
    assert reader.read()[2] == b"GET"  # the connection stays in sync after HEAD
    sock.close()


def test_head_of_a_stream_has_no_chunked_body(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /method HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = ResponseReader(sock)
    status, headers, body = reader.read("HEAD")
    assert status == 200 and body == b""
    assert reader.read()[2] == b"GET"
    sock.close()


def test_chunked_response_when_no_content_length(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET /stream?n=4 HTTP/1.1\r\nHost: x\r\n\r\n")
    reader = ResponseReader(sock)
    status, headers, body = reader.read()
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"chunk 0\nchunk 1\nchunk 2\nchunk 3\n"
    sock.sendall(b"GET /method HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reader.read()[2] == b"GET"
    sock.close()


def test_chunked_request_body(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(
        b"POST /echo?piece=3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    status, _, body = read_response(sock)
    assert (status, body) == (200, b"hello world!")
    sock.close()


def test_chunked_request_body_reports_its_length(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(
        b"POST /environ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"
    )
    status, _, body = read_response(sock)
    assert status == 200 and json.loads(body)["CONTENT_LENGTH"] == "4"
    sock.close()


def test_expect_100_continue(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    interim = b""
    while b"\r\n\r\n" not in interim:
        interim += sock.recv(100)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(b"body")
    status, _, body = read_response(sock)
    assert (status, body) == (200, b"body")
    sock.close()


def test_http_client_with_expect_header_and_curl_style_upload(basic_server):
    payload = b"z" * 200_000
    status, _, body = basic_server.request(
        "POST", "/echo?piece=65536", body=payload, headers={"Expect": "100-continue"}
    )
    assert status == 200 and body == payload


def test_large_request_body_spills_to_a_file(basic_server):
    payload = bytes(range(256)) * 8192  # 2 MiB, over the 1 MiB in-memory limit
    status, _, body = basic_server.request("POST", "/echo-length", body=payload)
    assert status == 200 and body == payload


def test_large_response_to_a_slow_reader_is_complete(basic_server):
    sock = basic_server.raw_socket(timeout=20)
    sock.sendall(b"GET /big?kb=16384 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # not reading: the kernel buffers fill up and the server must park the response
    # meanwhile other clients are served (a parked response holds no thread)
    assert basic_server.request("GET", "/")[2] == b"Hello, world!"
    status, headers, body = read_response(sock)
    assert headers["content-length"] == str(16384 * 1024)
    assert body == bytes(range(256)) * (16384 * 1024 // 256)
    sock.close()


def test_streaming_response_to_a_slow_reader_is_complete(basic_server):
    sock = basic_server.raw_socket(timeout=20)
    sock.sendall(b"GET /big-stream?n=160 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)  # let the server fill the buffers and park
    status, headers, body = read_response(sock)
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"".join(bytes([i]) * 65536 for i in range(160))
    sock.close()


def test_many_slow_readers_do_not_hold_app_threads(basic_server):
    # more parked big responses than app threads (4): all complete, and the server answers meanwhile
    socks = []
    for _ in range(6):
        sock = basic_server.raw_socket(timeout=20)
        sock.sendall(b"GET /big?kb=12288 HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(sock)
    time.sleep(0.5)
    started = time.monotonic()
    assert basic_server.request("GET", "/")[2] == b"Hello, world!"
    assert time.monotonic() - started < 2
    for sock in socks:
        status, _, body = read_response(sock)
        assert status == 200 and len(body) == 12288 * 1024
        sock.close()


def test_file_wrapper_under_the_validator_is_iterated(basic_server):
    status, headers, body = basic_server.request("GET", "/file?kb=512&skip=256")
    assert status == 200
    assert body == (bytes(range(256)) * 2048)[256:]


def test_file_wrapper_is_sent_with_sendfile_and_honours_position_and_length(server_factory):
    server = server_factory(app="apps.plain")
    status, headers, body = server.request("GET", "/file?kb=8192&skip=256")
    assert status == 200
    assert headers["content-length"] == str(8192 * 1024 - 256)  # known from the file: not chunked
    assert body == (bytes(range(256)) * 32768)[256:]
    status, headers, body = server.request("GET", "/file?kb=64&skip=10&length=1000")
    assert headers["content-length"] == "1000" and body == (bytes(range(256)) * 256)[10:1010]


def test_list_without_content_length_gets_one(server_factory):
    server = server_factory(app="apps.plain")
    status, headers, body = server.request("GET", "/list")
    assert (headers["content-length"], body) == ("13", b"one,two,three")
    assert "transfer-encoding" not in headers


def parts_body(sizes):
    return b"".join(bytes([65 + i % 26]) * size for i, size in enumerate(sizes))


def test_list_bodies_go_out_whole_and_exact(server_factory):
    # Lists of bytes take the whole-response path (head and body known up front): lengths, HEAD, bodiless
    # statuses and big lists must come out exactly as on the streaming path, on one keep-alive connection.
    server = server_factory(app="apps.plain")
    sock = server.raw_socket()
    reader = ResponseReader(sock)
    for sizes in ([13], [40000, 0, 40000], [0], [], [1, 2, 3], [300000]):
        query = ",".join(map(str, sizes)) if sizes else "0"
        sock.sendall(f"GET /parts?sizes={query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = reader.read()
        assert (status, body) == (200, parts_body(sizes or [0])), sizes
        assert headers["content-length"] == str(len(body)) and "transfer-encoding" not in headers
    sock.sendall(b"HEAD /parts?sizes=5,6 HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = reader.read("HEAD")
    assert (status, headers["content-length"], body) == (200, "11", b"")
    sock.sendall(b"GET /parts?sizes=7&declared=7 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reader.read()[2] == b"A" * 7  # still in sync after HEAD, a correct declared length kept
    sock.close()


def test_list_body_longer_than_declared_is_cut_and_the_connection_closed(server_factory):
    server = server_factory(app="apps.plain")
    sock = server.raw_socket()
    sock.sendall(b"GET /parts?sizes=10,10&declared=15 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    data = recv_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 15\r\n" in head
    # Never more than announced (the next response would be corrupt), and the connection ends there: the
    # pipelined second request is not answered.
    assert body == b"A" * 10 + b"B" * 5


def test_list_body_shorter_than_declared_ends_with_a_close(server_factory):
    server = server_factory(app="apps.plain")
    sock = server.raw_socket()
    sock.sendall(b"GET /parts?sizes=4&declared=10 HTTP/1.1\r\nHost: x\r\n\r\n")
    data = recv_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 10\r\n" in head and body == b"AAAA"  # the close tells the client it is short


def test_status_codes_without_body(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(
        b"GET /status?code=204 HTTP/1.1\r\nHost: x\r\n\r\nGET /status?code=304 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /method HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    reader = ResponseReader(sock)
    status, headers, body = reader.read()
    assert status == 204 and "transfer-encoding" not in headers and body == b""
    assert reader.read()[0] == 304
    assert reader.read()[2] == b"GET"
    sock.close()


def test_idle_keep_alive_connection_is_closed_after_the_timeout(server_factory):
    server = server_factory(config="KEEPALIVE_TIMEOUT=0.5\n")
    sock = server.raw_socket()
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock)[2] == b"Hello, world!"
    started = time.monotonic()
    sock.settimeout(5)
    assert sock.recv(10) == b""  # the server closed the idle connection
    assert 0.3 < time.monotonic() - started < 3


def test_a_pipeline_deeper_than_max_pending_pauses_reading_then_resumes_it(basic_server):
    # More pipelined requests than a connection may queue (MAX_PENDING = 16): the read thread stops reading
    # it (the socket leaves epoll) and takes it back once the queue drains. Every request is answered, in
    # order, and the connection still reads the requests that come after.
    from Server_3_free_threads.connection import MAX_PENDING

    sock = basic_server.raw_socket(timeout=20)
    reader = ResponseReader(sock)
    count = MAX_PENDING * 3
    # A slow first request keeps the connection busy, so the rest arrive while one is in flight and queue up.
    sock.sendall(b"GET /sleep?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    sock.sendall(b"".join(b"GET /environ/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(count)))
    assert reader.read()[0] == 200
    for i in range(count):
        status, _, body = reader.read()
        assert status == 200 and json.loads(body)["PATH_INFO"] == f"/environ/{i}", (i, body)
    for i in range(3):  # one at a time after the pause: the socket is back in epoll
        sock.sendall(b"GET /environ/after%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
        assert json.loads(reader.read()[2])["PATH_INFO"] == f"/environ/after{i}"
    sock.close()

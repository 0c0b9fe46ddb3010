"""PEP 3333 through a real server; the app runs inside wsgiref.validate.validator (warnings are errors), and
the module fixture asserts that no WSGIWarning was logged."""

import json

from conftest import ResponseReader, read_response


def test_environ_basics(basic_server):
    status, _, body = basic_server.request(
        "POST", "/environ?a=1&b=%20x", body=b"abc", headers={"Content-Type": "text/plain", "X-Custom": "v"}
    )
    env = json.loads(body)
    assert status == 200
    assert env["REQUEST_METHOD"] == "POST"
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/environ"
    assert env["QUERY_STRING"] == "a=1&b=%20x"
    assert env["CONTENT_TYPE"] == "text/plain"
    assert env["CONTENT_LENGTH"] == "3"
    assert env["SERVER_NAME"] == "testserver.local"  # DOMAIN
    assert env["SERVER_PORT"] == str(basic_server.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert int(env["REMOTE_PORT"]) > 0
    assert env["HTTP_X_CUSTOM"] == "v"
    assert env["HTTP_HOST"] == f"127.0.0.1:{basic_server.port}"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is True and env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True


def test_path_info_is_percent_decoded_latin1(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET /environ%2Fx/%C3%A9?q=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = read_response(sock)
    env = json.loads(body)
    # PATH_INFO holds the decoded bytes as latin-1 (PEP 3333); QUERY_STRING stays raw
    assert env["PATH_INFO"] == "/environ/x/\u00c3\u00a9"  # %2F decodes to "/" too (PEP 3333)
    sock.close()
    sock = basic_server.raw_socket()
    sock.sendall(b"GET /envir%6Fn?q=%C3%A9 HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, body = read_response(sock)
    env = json.loads(body)
    assert env["PATH_INFO"] == "/environ" and env["QUERY_STRING"] == "q=%C3%A9"
    sock.close()


def test_absolute_form_target(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(b"GET http://example.com/environ?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
    env = json.loads(read_response(sock)[2])
    assert env["PATH_INFO"] == "/environ" and env["QUERY_STRING"] == "x=1"
    sock.close()


def test_repeated_headers_are_joined(basic_server):
    sock = basic_server.raw_socket()
    sock.sendall(
        b"GET /environ HTTP/1.1\r\nHost: x\r\nX-Multi: a\r\nX-Multi: b\r\nCookie: c=1\r\nCookie: d=2\r\n\r\n"
    )
    env = json.loads(read_response(sock)[2])
    assert env["HTTP_X_MULTI"] == "a,b"
    assert env["HTTP_COOKIE"] == "c=1; d=2"
    sock.close()


def test_input_read_in_pieces(basic_server):
    payload = bytes(range(256)) * 40
    for piece in (1, 7, 4096, 100000):
        status, _, body = basic_server.request("POST", f"/echo?piece={piece}", body=payload)
        assert body == payload


def test_input_readline_and_iteration(basic_server):
    status, _, body = basic_server.request("POST", "/lines", body=b"first line\nsecond\nthird\nno newline")
    data = json.loads(body)
    assert data == {"first": "first line\n", "rest": ["second\n", "third\n", "no newline"]}
    status, _, body = basic_server.request("POST", "/readlines", body=b"a\nb\n")
    assert json.loads(body) == ["a\n", "b\n"]


def test_empty_body_reads_as_empty(basic_server):
    assert basic_server.request("POST", "/echo", body=b"")[2] == b""
    assert basic_server.request("GET", "/echo")[2] == b""


def test_write_callable(basic_server):
    status, headers, body = basic_server.request("GET", "/write")
    assert status == 200
    assert body == b"written-1,written-2,returned"
    assert headers["transfer-encoding"] == "chunked"


def test_exc_info_replaces_a_response_not_yet_sent(basic_server):
    status, _, body = basic_server.request("GET", "/exc-info")
    assert (status, body) == (503, b"oops")


def test_close_is_called_on_the_iterable(basic_server):
    before = int(basic_server.request("GET", "/closed-count")[2])
    for _ in range(3):
        assert basic_server.request("GET", "/tracked")[2] == b"tracked"
    # HEAD and an aborted client also close it
    sock = basic_server.raw_socket()
    sock.sendall(b"HEAD /tracked HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(sock, "HEAD")
    sock.close()
    after = int(basic_server.request("GET", "/closed-count")[2])
    assert after - before == 4


def test_status_and_methods(basic_server):
    assert basic_server.request("GET", "/status?code=404")[0] == 404
    assert basic_server.request("GET", "/status?code=302")[0] == 302
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        assert basic_server.request(method, "/method")[2] == method.encode()


def test_no_validator_warnings_so_far(basic_server):
    assert "WSGIWarning" not in basic_server.stderr()
    assert "AssertionError" not in basic_server.stderr()


def test_each_request_gets_a_fresh_environ_even_for_repeated_heads(server_factory):
    # Identical heads share their parsed keys (a per-head cache): an app changing its environ, or a chunked
    # body adding CONTENT_LENGTH, must not leak into the next request with the same head.
    server = server_factory(app="apps.plain")
    sock = server.raw_socket()
    reader = ResponseReader(sock)
    plain = b"GET /mutate HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n"
    chunked = b"POST /mutate HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\nTransfer-Encoding: chunked\r\n\r\n"
    for round_ in range(3):
        sock.sendall(plain)
        assert reader.read()[2] == b"REQUEST_METHOD=GET,HTTP_X_TAG=one,CONTENT_LENGTH=None,body=", round_
        body = b"ab" * (round_ + 1)
        sock.sendall(chunked + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        expected = f"REQUEST_METHOD=POST,HTTP_X_TAG=one,CONTENT_LENGTH={len(body)},body={body.decode()}"
        assert reader.read()[2] == expected.encode(), round_
    sock.close()


def test_the_shared_empty_input_reads_like_an_empty_bytesio():
    import io

    from Server_3_free_threads.wsgi import EMPTY_INPUT

    reference = io.BytesIO(b"")
    for stream in (EMPTY_INPUT, reference):
        assert (stream.read(), stream.read(10), stream.read(None), stream.read1(3)) == (b"", b"", b"", b"")
        assert (stream.readline(), stream.readline(5), stream.readlines(), list(stream)) == (b"", b"", [], [])
        assert (stream.readinto(bytearray(4)), stream.seek(0), stream.tell(), stream.readable()) == (
            0,
            0,
            0,
            True,
        )
    EMPTY_INPUT.close()  # an app closing its wsgi.input must not break the next request's
    assert EMPTY_INPUT.read() == b"" and not EMPTY_INPUT.closed

"""The incremental HTTP/1.1 parser on its own: data-driven fixtures (http_fixtures/*.http + .json) fed whole,
byte by byte and in random splits, plus limits. The parser is pure (bytes in, requests out), so these tests
call it directly; everything else goes through real sockets in the other test modules."""

import json
import random
import re
from pathlib import Path

import pytest
from Server_3_free_threads.parser import RequestParser

FIXTURES = Path(__file__).parent / "http_fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.http"))


def load_stream(name: str) -> bytes:
    text = (FIXTURES / f"{name}.http").read_text(encoding="latin-1").replace("\n", "")
    return re.sub(
        r"\\(r|n|t|x[0-9a-fA-F]{2})",
        lambda m: {"r": "\r", "n": "\n", "t": "\t"}.get(m.group(1)) or chr(int(m.group(1)[1:], 16)),
        text,
    ).encode("latin-1")


def parse_in_pieces(data: bytes, sizes) -> list:
    parser = RequestParser(max_header_size=8192, max_body_size=1 << 20)
    out = []
    pos = 0
    for size in sizes:
        if pos >= len(data):
            break
        out.extend(parser.feed(data[pos : pos + size]))
        pos += size
    if pos < len(data):
        out.extend(parser.feed(data[pos:]))
    return out


def describe(requests) -> dict:
    result: dict = {"requests": []}
    for request in requests:
        if request.error is not None:
            result["error"] = request.error.status
            result["error_detail"] = request.error.detail
            continue
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        result["requests"].append(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "version": request.version,
                "keep_alive": request.keep_alive,
                "headers": dict(request.headers),
                "body": body.decode("latin-1"),
            }
        )
    return result


def check(name: str, got: dict) -> None:
    expected = json.loads((FIXTURES / f"{name}.json").read_text())
    assert got.get("error") == expected.get("error"), got
    # The detail proves the refusal comes from the check the fixture was written for, not from another one
    # the input happens to trip (with that check deleted, the status alone could still match).
    if "error" in expected:
        assert expected["error_detail"] in got["error_detail"], got
    assert len(got["requests"]) == len(expected.get("requests", [])), got
    for want, have in zip(expected.get("requests", []), got["requests"], strict=True):
        for key, value in want.items():
            assert have[key] == value, (key, have)


@pytest.mark.parametrize("name", NAMES)
def test_fixture_whole(name):
    check(name, describe(parse_in_pieces(load_stream(name), [1 << 20])))


@pytest.mark.parametrize("name", NAMES)
def test_fixture_byte_by_byte(name):
    data = load_stream(name)
    check(name, describe(parse_in_pieces(data, [1] * len(data))))


@pytest.mark.parametrize("name", NAMES)
def test_fixture_random_splits(name):
    data = load_stream(name)
    rng = random.Random(name)
    for _ in range(5):
        check(name, describe(parse_in_pieces(data, [rng.randint(1, 9) for _ in range(len(data))])))


def test_there_are_fixtures():
    assert len(NAMES) >= 40
    for name in NAMES:
        expected = json.loads((FIXTURES / f"{name}.json").read_text())
        assert "error" not in expected or expected.get("error_detail"), f"{name}.json: give error_detail"


def test_header_limit_gives_431_before_the_end_arrives():
    parser = RequestParser(max_header_size=1024, max_body_size=100)
    assert parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n") == []
    out = parser.feed(b"X: " + b"a" * 2000)
    assert out[0].error.status == 431
    assert parser.feed(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n") == []  # a dead parser ignores the rest


def test_body_limit_gives_413():
    parser = RequestParser(max_header_size=1024, max_body_size=10)
    assert parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n")[0].error.status == 413


def test_large_body_spills_to_a_file():
    parser = RequestParser(max_header_size=1024, max_body_size=10 << 20)
    body = b"x" * (3 << 20)
    out = parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % len(body))
    assert out == []
    for i in range(0, len(body), 65536):
        out += parser.feed(body[i : i + 65536])
    assert len(out) == 1 and not isinstance(out[0].body, bytes) and out[0].body.read() == body


def test_expect_continue_is_flagged_until_the_body_arrives():
    parser = RequestParser(max_header_size=1024, max_body_size=100)
    assert (
        parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n") == []
    )
    assert parser.continue_needed
    parser.continue_needed = False
    assert parser.feed(b"ok")[0].body == b"ok"


def test_idle_between_requests():
    parser = RequestParser(max_header_size=1024, max_body_size=100)
    assert parser.idle
    parser.feed(b"GET / HTTP/1.1\r\n")
    assert not parser.idle
    parser.feed(b"Host: h\r\n\r\n")
    assert parser.idle


# ---- every limit at its exact boundary: at the limit passes, one byte past it fails ----

HEAD_LIMIT = 256


def head_of(size: int) -> bytes:
    """A request head (without its final CRLFCRLF) of exactly `size` bytes."""
    start = b"GET / HTTP/1.1\r\nHost: h\r\nX-Pad: "
    return start + b"p" * (size - len(start))


def test_a_head_of_exactly_max_header_size_passes_and_one_byte_more_is_431():
    ok = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100).feed(head_of(HEAD_LIMIT) + b"\r\n\r\n")
    assert len(ok) == 1 and ok[0].error is None and ok[0].headers["HTTP_X_PAD"].startswith("ppp")
    over = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100).feed(
        head_of(HEAD_LIMIT + 1) + b"\r\n\r\n"
    )
    assert over[0].error.status == 431


def test_an_unfinished_head_is_431_only_once_more_than_max_header_size_bytes_wait():
    parser = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100)
    assert parser.feed(head_of(HEAD_LIMIT)) == []  # exactly the limit buffered, no end yet: keep waiting
    assert not parser.dead
    # Three bytes more may still be the start of the CRLFCRLF that ends a head of exactly the limit (see
    # test_a_head_of_exactly_the_limit_passes_however_its_end_is_split): wait; a fourth cannot be.
    assert parser.feed(b"ppp") == [] and not parser.dead
    assert parser.feed(b"p")[0].error.status == 431
    # Empty lines before a request are not part of the head (RFC 9112 2.2): they do not count.
    parser = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100)
    assert parser.feed(b"\r\n" * 10 + head_of(HEAD_LIMIT)) == [] and not parser.dead


def test_a_content_length_of_exactly_max_body_size_passes_and_one_more_is_413():
    parser = RequestParser(max_header_size=1024, max_body_size=10)
    out = parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789")
    assert out[0].error is None and out[0].body == b"0123456789"
    out = RequestParser(max_header_size=1024, max_body_size=10).feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"
    )
    assert out[0].error.status == 413 and "MAX_BODY_SIZE (10)" in out[0].error.detail


def test_content_length_digits_are_converted_up_to_18_and_refused_from_19():
    # With a body limit above 10**17 an 18-digit length is one to wait for, a 19-digit one is 413 at once.
    big = 10**18
    parser = RequestParser(max_header_size=1024, max_body_size=big)
    assert parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1" + b"0" * 17 + b"\r\n\r\n") == []
    assert parser.body_left == 10**17 and not parser.dead
    parser = RequestParser(max_header_size=1024, max_body_size=big)
    out = parser.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1" + b"0" * 18 + b"\r\n\r\n")
    assert out[0].error.status == 413
    # leading zeros do not count: 5,000 digits that say 5 are 5
    out = RequestParser(max_header_size=8192, max_body_size=10).feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + b"0" * 5000 + b"5\r\n\r\nhello"
    )
    assert out[0].error is None and out[0].body == b"hello"


def chunked_head() -> bytes:
    return b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_chunks_adding_up_to_exactly_max_body_size_pass_and_one_byte_more_is_413():
    ok = RequestParser(max_header_size=1024, max_body_size=10).feed(
        chunked_head() + b"4\r\n0123\r\n6\r\n456789\r\n0\r\n\r\n"
    )
    assert ok[0].error is None and ok[0].body == b"0123456789" and ok[0].headers["CONTENT_LENGTH"] == "10"
    over = RequestParser(max_header_size=1024, max_body_size=10).feed(chunked_head() + b"4\r\n0123\r\n7\r\n")
    assert over[0].error.status == 413


@pytest.mark.parametrize("split", [False, True])
def test_a_chunk_size_line_of_4096_bytes_passes_and_4097_is_400(split):
    def feed(line: bytes):
        parser = RequestParser(max_header_size=1024, max_body_size=100)
        stream = chunked_head() + line + b"\r\nx\r\n0\r\n\r\n"
        if not split:
            return parser.feed(stream)
        out = []
        for i in range(0, len(stream), 700):
            out += parser.feed(stream[i : i + 700])
        return out

    at_limit = b"1;" + b"e" * 4094  # size + extension: 4,096 bytes before the CRLF
    out = feed(at_limit)
    assert len(out) == 1 and out[0].error is None and out[0].body == b"x"
    out = feed(at_limit + b"e")
    assert out[0].error.status == 400 and out[0].error.detail == "chunk size line too long"


def test_an_unfinished_chunk_size_line_fails_once_it_is_past_4096_bytes():
    parser = RequestParser(max_header_size=1024, max_body_size=100)
    assert parser.feed(chunked_head() + b"1;" + b"e" * 4094) == [] and not parser.dead
    assert parser.feed(b"e")[0].error.status == 400


def trailer_stream(trailer_bytes: int) -> bytes:
    """A chunked request whose trailer lines (each with its CRLF) add up to `trailer_bytes`."""
    first = b"X-A: " + b"a" * 50 + b"\r\n"
    second = b"X-B: " + b"b" * (trailer_bytes - len(first) - 7) + b"\r\n"
    assert len(first) + len(second) == trailer_bytes
    return chunked_head() + b"1\r\nx\r\n0\r\n" + first + second + b"\r\n"


def test_trailers_of_exactly_max_header_size_pass_and_one_byte_more_is_431():
    out = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100).feed(trailer_stream(HEAD_LIMIT))
    assert len(out) == 1 and out[0].error is None and out[0].body == b"x"
    out = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100).feed(trailer_stream(HEAD_LIMIT + 1))
    assert out[0].error.status == 431 and "trailers" in out[0].error.detail


def test_an_unfinished_trailer_is_431_only_past_max_header_size():
    stream = trailer_stream(HEAD_LIMIT)
    unfinished = stream[: -len(b"\r\n\r\n")]  # the last trailer line without its CRLF, nor the empty line
    parser = RequestParser(max_header_size=HEAD_LIMIT, max_body_size=100)
    assert parser.feed(unfinished) == [] and not parser.dead  # HEAD_LIMIT - 2 bytes of trailers so far
    assert parser.feed(b"bb") == [] and not parser.dead  # exactly the limit
    assert parser.feed(b"b")[0].error.status == 431


def test_a_forbidden_trailer_field_is_400_and_an_allowed_one_is_ignored():
    ok = RequestParser(max_header_size=1024, max_body_size=100).feed(
        chunked_head() + b"1\r\nx\r\n0\r\nX-Checksum: 1\r\n\r\n"
    )
    assert ok[0].error is None and "HTTP_X_CHECKSUM" not in ok[0].headers
    out = RequestParser(max_header_size=1024, max_body_size=100).feed(
        chunked_head() + b"1\r\nx\r\n0\r\nContent-Length: 1\r\n\r\n"
    )
    assert out[0].error.status == 400 and "content-length" in out[0].error.detail


def test_an_empty_chunk_size_line_is_400_not_a_wait_for_more():
    out = RequestParser(max_header_size=1024, max_body_size=100).feed(chunked_head() + b"\r\n1\r\nx\r\n")
    assert out and out[0].error.status == 400 and out[0].error.detail == "malformed chunk size line"
    parser = RequestParser(max_header_size=1024, max_body_size=100)
    assert parser.feed(chunked_head()) == []
    out = parser.feed(b"\r\n1\r\nx\r\n")  # the empty line at the very start of a piece of input
    assert out and out[0].error.status == 400 and out[0].error.detail == "malformed chunk size line"


@pytest.mark.parametrize(
    "status, reason",
    [
        (400, "Bad Request"),
        (408, "Request Timeout"),
        (413, "Content Too Large"),
        (417, "Expectation Failed"),
        (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"),
        (503, "Service Unavailable"),
        (505, "HTTP Version Not Supported"),
    ],
)
def test_every_status_the_server_answers_itself_has_its_reason_phrase(status, reason):
    from Server_3_free_threads.response import simple_response

    assert simple_response(status, "why").startswith(f"HTTP/1.1 {status} {reason}\r\n".encode())


def test_error_details_quote_at_most_40_characters_of_a_bad_content_length():
    value = "1" * 30 + "x" * 30
    out = RequestParser(max_header_size=1024, max_body_size=100).feed(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + value.encode() + b"\r\n\r\n"
    )
    assert out[0].error.status == 400 and out[0].error.detail == f"invalid Content-Length {value[:40]!r}"


def test_a_head_of_exactly_the_limit_passes_however_its_end_is_split():
    # Found by mutation testing: split inside the final CRLFCRLF, the unfinished-head check counted the
    # terminator's first bytes as head and answered 431 to a head the whole input would accept.
    limit = 1024
    head = b"GET / HTTP/1.1\r\nHost: h\r\nX: "
    head += b"a" * (limit - len(head))
    assert len(head) == limit
    for cut in range(len(head), len(head) + 4):
        stream = head + b"\r\n\r\n"
        parser = RequestParser(max_header_size=limit, max_body_size=0)
        out = parser.feed(stream[:cut]) + parser.feed(stream[cut:])
        assert len(out) == 1 and out[0].error is None, (cut, out[0].error and out[0].error.detail)
    parser = RequestParser(max_header_size=limit, max_body_size=0)  # one byte more is still refused
    out = parser.feed(head + b"a\r\n\r") + parser.feed(b"\n")
    assert out[0].error.status == 431

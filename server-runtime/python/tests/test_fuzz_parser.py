"""Fuzzing the request parser in-process (structured mutations of real requests, see fuzzing.py).

For every case: `feed()` raises nothing (every refusal is a Request carrying an HttpError with a 4xx the
server answers with), the result does not depend on how the stream was split into recv() pieces (the same
requests and the same refusal, detail included), and what comes out is well formed."""

import re

from fuzzing import CASES, MAX_BODY_SIZE, MAX_HEADER_SIZE, build, cases, examples
from hypothesis import HealthCheck, given, settings
from Server_3_free_threads.parser import RequestParser
from test_parser import describe

REFUSALS = {400, 413, 431, 501, 505}
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def parse(chunks: list[bytes]) -> list:
    parser = RequestParser(MAX_HEADER_SIZE, MAX_BODY_SIZE)
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))  # anything raised here fails the test: that was a dead read thread
    return out


@settings(
    max_examples=examples("parser", 5000),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    print_blob=True,
)
@given(case=cases)
def test_the_parser_never_raises_and_splits_do_not_matter(case):
    CASES["parser"] += 1
    data, chunks = build(case)
    whole = parse([data])
    split = parse(chunks)
    assert describe(split) == describe(whole)
    errors = [r for r in whole if r.error is not None]
    assert len(errors) <= 1 and (not errors or whole[-1] is errors[0]), "a refusal must end the stream"
    for request in whole:
        if request.error is not None:
            assert request.error.status in REFUSALS, request.error.detail
            continue
        assert TOKEN.fullmatch(request.method) and request.version in ("HTTP/1.0", "HTTP/1.1")
        assert request.target.isascii() and request.target.isprintable()
        assert all(type(v) is str for v in request.headers.values())

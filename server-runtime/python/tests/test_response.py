"""Response pieces in-process (the whole response path runs through sockets in test_http11.py and
test_resilience.py): the per-thread caches stay bounded whatever statuses and headers an app invents."""

from Server_3_free_threads.response import Response, ResponseCaches


class _Request:
    method = "GET"
    version = "HTTP/1.1"


def _respond(caches: ResponseCaches, status: str, headers: list) -> bytes:
    response = Response(None, _Request(), True, 1.0, caches)
    response.start_response(status, headers)
    return response._build_head()


def test_caches_remember_what_repeats_and_stay_bounded():
    caches = ResponseCaches()
    head = _respond(caches, "200 OK", [("Content-Length", "2")])
    assert head.startswith(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")
    assert caches.status_codes == {"200 OK": 200} and list(caches.status_lines) == ["200 OK"]
    assert len(caches.heads) == 1
    for i in range(3000):  # an app that makes up a status and a header value per response
        _respond(caches, f"200 Made up {i}", [("X-Request-Id", str(i))])
    assert 0 < len(caches.status_codes) <= 1024
    assert 0 < len(caches.status_lines) <= 1024
    assert 0 < len(caches.heads) <= 1024
    # A remembered status still answers with its code (and the first ones were kept, not replaced).
    assert caches.status_codes["200 OK"] == 200


def test_each_app_thread_has_its_own_caches():
    first, second = ResponseCaches(), ResponseCaches()
    _respond(first, "201 Created", [])
    assert "201 Created" in first.status_codes and not second.status_codes

"""Correctness checks run against every server before it is measured: a fast wrong answer must not count.

Each check returns (name, ok, detail). The quick mode fails when any check of a server under test fails.
"""

import http.client
import os

HELLO = b"Hello, world!"


def _request(port: int, method: str, path: str, body: bytes | None = None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def _check(name: str, run) -> tuple[str, bool, str]:
    try:
        ok, detail = run()
    except (OSError, http.client.HTTPException) as e:
        ok, detail = False, f"{type(e).__name__}: {e}"
    return name, ok, detail


def _expect(status: int, body: bytes, want: bytes) -> tuple[bool, str]:
    if status == 200 and body == want:
        return True, ""
    shown = body[:60] if len(body) <= 60 else body[:60] + b"..."
    return False, f"got {status} with {len(body)} bytes {shown!r}, wanted 200 with {len(want)} bytes"


def check_hello(port: int) -> tuple[str, bool, str]:
    return _check("GET / answers Hello, world!", lambda: _expect(*_request(port, "GET", "/"), HELLO))


def check_keep_alive(port: int) -> tuple[str, bool, str]:
    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            for _ in range(3):
                ok, detail = _expect(*_request(port, "GET", "/", conn=conn), HELLO)
                if not ok:
                    return ok, detail
        finally:
            conn.close()
        return True, ""

    return _check("3 requests on one keep-alive connection", run)


def check_echo(port: int) -> tuple[str, bool, str]:
    body = os.urandom(65536)
    return _check(
        "POST /echo returns the 64 KiB body", lambda: _expect(*_request(port, "POST", "/echo", body), body)
    )


def check_big(port: int) -> tuple[str, bool, str]:
    want = b"x" * (1024 * 1024)
    return _check(
        "GET /big?kb=1024 returns 1 MiB", lambda: _expect(*_request(port, "GET", "/big?kb=1024"), want)
    )


def check_sleep(port: int) -> tuple[str, bool, str]:
    return _check("GET /sleep?ms=10 answers", lambda: _expect(*_request(port, "GET", "/sleep?ms=10"), HELLO))


def checks_for(app: str, is_ceiling: bool):
    """The checks that apply to a server running `app` (nginx answers only the hello body)."""
    if is_ceiling or app == "flask":
        return [check_hello, check_keep_alive]
    return [check_hello, check_keep_alive, check_echo, check_big, check_sleep]

"""The app of tests/test_races.py: every response names the request it answers, so a response delivered to the
wrong connection, out of order, or with another request's body is caught byte for byte.

Body: `<METHOD> <path>?<query> <X-Req-Id> <body length>\\n` followed by the request body itself; `?big=N`
appends N bytes derived from the id (larger than a socket buffer: the response parks and resumes); paths
under /stream answer through a generator without Content-Length (chunked framing, the streaming path).
"""


def expected_body(method: str, target: str, req_id: str, body: bytes, big: int = 0) -> bytes:
    """What the app answers; tests/test_races.py computes it the same way for each request it sends."""
    line = f"{method} {target} {req_id} {len(body)}\n".encode("latin-1")
    return line + body + filler(req_id, big)


def filler(req_id: str, size: int) -> bytes:
    if not size:
        return b""
    unit = (req_id + ";").encode("latin-1")
    return (unit * (size // len(unit) + 1))[:size]


def application(environ, start_response):
    method = environ["REQUEST_METHOD"]
    query = environ.get("QUERY_STRING", "")
    target = environ["PATH_INFO"] + ("?" + query if query else "")
    req_id = environ.get("HTTP_X_REQ_ID", "-")
    body = environ["wsgi.input"].read()
    big = int(query[4:]) if query.startswith("big=") else 0
    data = expected_body(method, target, req_id, body, big)
    headers = [("Content-Type", "application/octet-stream"), ("X-Req-Id", req_id)]
    if environ["PATH_INFO"].startswith("/stream"):
        start_response("200 OK", headers)
        return (data[i : i + 4096] for i in range(0, len(data), 4096))
    start_response("200 OK", headers + [("Content-Length", str(len(data)))])
    return [data]

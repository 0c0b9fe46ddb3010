"""Routes that must see the server's own objects unwrapped (wsgiref.validate wraps the returned iterable,
which hides wsgi.file_wrapper from the server): sendfile, and a few raw behaviours."""

import tempfile
from urllib.parse import parse_qs


def application(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    path = environ["PATH_INFO"]
    if path == "/file":
        size = int(query.get("kb", ["512"])[0]) * 1024
        handle = tempfile.TemporaryFile()
        handle.write(bytes(range(256)) * (size // 256))
        handle.seek(int(query.get("skip", ["0"])[0]))
        headers = [("Content-Type", "application/octet-stream")]
        if "length" in query:
            headers.append(("Content-Length", query["length"][0]))
        start_response("200 OK", headers)
        return environ["wsgi.file_wrapper"](handle, 8192)
    if path == "/mutate":  # reports a few keys, then vandalises its environ: the next request must not care
        seen = ",".join(f"{k}={environ.get(k)}" for k in ("REQUEST_METHOD", "HTTP_X_TAG", "CONTENT_LENGTH"))
        seen += f",body={environ['wsgi.input'].read().decode()}"
        environ["REQUEST_METHOD"] = "MUTATED"
        environ["HTTP_X_TAG"] = "mutated"
        environ.pop("CONTENT_LENGTH", None)
        environ.clear()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [seen.encode()]
    if path == "/list":  # a list without Content-Length: the server computes it
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one,", b"two,", b"three"]
    if (
        path == "/parts"
    ):  # a list of parts of the given sizes, optionally with a declared (maybe wrong) length
        sizes = [int(n) for n in query.get("sizes", ["13"])[0].split(",")]
        parts = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
        headers = [("Content-Type", "application/octet-stream")]
        if "declared" in query:
            headers.append(("Content-Length", query["declared"][0]))
        start_response(query.get("status", ["200 OK"])[0], headers)
        return parts
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]

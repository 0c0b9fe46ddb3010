"""The fuzzing suite's app: answers every request 200 with what the server parsed (method, path, body size),
so a response can be matched to the request the in-process parser saw."""


def application(environ, start_response):
    body = environ["wsgi.input"].read()
    text = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(body)}".encode("latin-1", "replace")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))])
    return [text]

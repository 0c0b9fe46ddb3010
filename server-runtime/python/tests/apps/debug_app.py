"""The debugger test's app: /break runs the line a breakpoint is set on; everything else answers at once."""


def application(environ, start_response):
    if environ["PATH_INFO"] == "/break":
        body = b"resumed"  # BREAKPOINT HERE (tests/test_debugger.py finds this line)
    else:
        body = b"fast"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

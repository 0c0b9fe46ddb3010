"""Logs: startup line and tracebacks on stderr, access log (common/combined/off) on stdout."""

import re
import time


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_startup_line(server_factory):
    server = server_factory()
    line = next(line for line in server.stderr().splitlines() if "listening on" in line)
    assert f"http://127.0.0.1:{server.port}" in line
    assert re.search(r"Python 3\.\d+\.\d+, GIL (on|off), threads: accept, read, app-1, .*close", line)


def test_common_access_log(server_factory):
    server = server_factory()
    server.request("GET", "/environ?x=1", headers={"User-Agent": "probe/1"})
    assert wait_for(lambda: "/environ?x=1" in server.stdout())
    line = next(line for line in server.stdout().splitlines() if "/environ?x=1" in line)
    assert re.fullmatch(
        r'127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /environ\?x=1 HTTP/1\.1" 200 \d+',
        line,
    ), line


def test_combined_access_log(server_factory):
    server = server_factory(config="ACCESS_LOG=combined\n")
    server.request("GET", "/", headers={"User-Agent": 'probe "2"', "Referer": "http://r.example/"})
    assert wait_for(lambda: "probe" in server.stdout())
    line = server.stdout().splitlines()[-1]
    assert line.endswith('"GET / HTTP/1.1" 200 13 "http://r.example/" "probe \\"2\\""'), line


def test_access_log_off(server_factory):
    server = server_factory(config="ACCESS_LOG=off\n")
    assert server.request("GET", "/")[2] == b"Hello, world!"
    time.sleep(0.3)
    assert server.stdout() == ""

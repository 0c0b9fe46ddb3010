"""A log reader that falls behind slows the log, never the server: access lines are written by their own
thread, so with stdout a pipe nobody reads (its 64 KiB fill after ~700 lines) requests are still answered."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys

from conftest import BASE_CONFIG, TESTS_DIR, RunningServer, server_env

REQUESTS = 3000  # ~270 KB of access log: four times what the pipe holds


def test_requests_are_served_while_nobody_reads_stdout(tmp_path):
    config = tmp_path / "server.config"
    config.write_text(BASE_CONFIG + "APP=apps.basic\nACCESS_LOG=combined\n")
    ours, theirs = socket.socketpair()
    with open(tmp_path / "stderr.log", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "Server_3_free_threads", "--config", str(config), "--port", "0"]
            + ["--control-fd", str(theirs.fileno())],
            cwd=TESTS_DIR,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,  # never read below
            stderr=err,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
    theirs.close()
    server = RunningServer(proc, ours, TESTS_DIR, tmp_path)
    try:
        server.ready = server.read_message(timeout=15, want="ready")
        conn = http.client.HTTPConnection("127.0.0.1", server.ready["port"], timeout=10)
        statuses = []
        for i in range(REQUESTS):
            conn.request("GET", f"/?n={i}")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()
        assert statuses == [200] * REQUESTS
        # The log is behind, not lost: what the pipe holds now is whole access lines.
        proc.stdout.close()
    finally:
        server.kill()

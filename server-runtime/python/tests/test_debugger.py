"""The server under a real debugger: debugpy (as "Server 3: Start with Debugger" runs it), driven by a real
Debug Adapter Protocol client the way VS Code attaches (stopAllThreadsOnSuspend off). A breakpoint in the app
stops the app thread that hit it while the other app threads and the pipeline's own threads keep serving;
continue lets the stopped request finish."""

import threading

import pytest
from conftest import BASE_CONFIG, TESTS_DIR, RunningServer, free_port, launch
from dap import DapClient

debugpy = pytest.importorskip("debugpy", reason="debugpy is in requirements-test.txt: run scripts/setup.sh")

APP_FILE = TESTS_DIR / "apps" / "debug_app.py"
BREAK_LINE = next(
    i for i, line in enumerate(APP_FILE.read_text().splitlines(), 1) if "BREAKPOINT HERE" in line
)


@pytest.fixture
def debugged(tmp_path):
    config = tmp_path / "debug.config"
    config.write_text(BASE_CONFIG + "APP=apps.debug_app\nAPP_THREADS=4\n")
    port = free_port()
    proc, control = launch(
        TESTS_DIR,
        tmp_path / "logs",
        ["--config", str(config), "--port", "0"],
        python_args=("-m", "debugpy", "--listen", f"127.0.0.1:{port}"),
    )
    server = RunningServer(proc, control, TESTS_DIR, tmp_path / "logs")
    try:
        server.ready = server.read_message(60, want="ready")
        server.port = server.ready["port"]
        client = DapClient(port)
        yield server, client
        client.close()
    finally:
        server.kill()


def test_a_breakpoint_stops_one_app_thread_while_the_others_serve(debugged):
    server, dap = debugged
    dap.request(
        "initialize", adapterID="debugpy", clientID="server3-test", linesStartAt1=True, pathFormat="path"
    )
    attach = dap.send(
        "attach",
        justMyCode=True,
        stopAllThreadsOnSuspend=False,
        steppingResumesAllThreads=False,
        subProcess=False,
    )
    dap.event("initialized")
    found = dap.request("setBreakpoints", source={"path": str(APP_FILE)}, breakpoints=[{"line": BREAK_LINE}])
    assert found["body"]["breakpoints"][0]["verified"], found
    dap.request("configurationDone")
    dap.response(attach)

    outcome = {}
    stopped_request = threading.Thread(
        target=lambda: outcome.update(r=server.request("GET", "/break", timeout=60))
    )
    stopped_request.start()
    stopped = dap.event("stopped", timeout=30)
    assert stopped["body"]["reason"] == "breakpoint"
    thread_id = stopped["body"]["threadId"]
    threads = {t["id"]: t["name"] for t in dap.request("threads")["body"]["threads"]}
    assert threads[thread_id].startswith("app-"), threads
    # The pipeline's own threads are kept out of the debugger entirely.
    assert not {"accept", "read", "close", "control"} & set(threads.values()), threads

    # While app thread N sits at the breakpoint, other requests are answered (by the other app threads).
    for _ in range(5):
        assert server.request("GET", "/fast", timeout=10)[2] == b"fast"
    assert stopped_request.is_alive()  # still held at the breakpoint

    dap.request("continue", threadId=thread_id)
    stopped_request.join(30)
    assert outcome["r"][0] == 200 and outcome["r"][2] == b"resumed"
    server.assert_serving()


def test_a_breakpoint_in_the_pipelines_own_code_never_stops_it(debugged):
    """The read thread is not traced at all (not only hidden from the thread list): a breakpoint set in its
    code, as a user stepping through the server's source might, is never hit and requests are answered."""
    import inspect

    from Server_3_free_threads import read_thread

    server, dap = debugged
    dap.request(
        "initialize", adapterID="debugpy", clientID="server3-test", linesStartAt1=True, pathFormat="path"
    )
    attach = dap.send("attach", justMyCode=False, stopAllThreadsOnSuspend=False, subProcess=False)
    dap.event("initialized")
    # A line of on_readable that every request's bytes pass through, on the read thread.
    lines, first = inspect.getsourcelines(read_thread.ReadThread.on_readable)
    body_line = first + next(i for i, text in enumerate(lines) if "if conn.closing:" in text)
    path = inspect.getsourcefile(read_thread)
    found = dap.request("setBreakpoints", source={"path": path}, breakpoints=[{"line": body_line}])
    assert found["body"]["breakpoints"][0]["verified"], found
    dap.request("configurationDone")
    dap.response(attach)

    for _ in range(3):
        assert server.request("GET", "/fast", timeout=10)[2] == b"fast"
    with pytest.raises(TimeoutError):
        dap.event("stopped", timeout=2)
    server.assert_serving()

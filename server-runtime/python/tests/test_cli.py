"""The command line and its contract with the VS Code supervisor: old `configfile=` form, flags, exit codes
(0 stop, 2 config, 3 app import, 4 address in use), error lines, and error messages on the control fd."""

import json
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import REPO_DIR, free_port, launch, server_env, start_server


def run_cli(args, cwd, timeout=20):
    return subprocess.run(
        [sys.executable, "-m", "Server_3_free_threads", *args],
        cwd=cwd,
        env=server_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def wait_for_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(port)


def control_messages(sock, timeout=10):
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.splitlines() if line.strip()]


@pytest.fixture
def hello_copy(tmp_path):
    """A copy of examples/hello with a config on a free port (the 0.2.x way: the port is in the config)."""
    work = tmp_path / "hello"
    shutil.copytree(REPO_DIR / "examples" / "hello", work)
    port = free_port()
    text = (work / ".config_server").read_text().replace("PORT=8000", f"PORT={port}")
    (work / ".config_server").write_text(text)
    return work, port


@pytest.mark.parametrize("absolute", [False, True])
def test_old_cli_form_serves_examples_hello(hello_copy, absolute):
    work, port = hello_copy
    config = str(work / ".config_server") if absolute else ".config_server"
    proc, _ = launch(work, work / "logs", [f"configfile={config}"], control=False)
    try:
        wait_for_port(port, proc)
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"Hello, world!"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        stderr = (work / "logs" / "stderr.log").read_text()
        assert f"listening on http://127.0.0.1:{port}" in stderr and "GIL" in stderr
        assert '"GET / HTTP/1.1" 200 13' in (work / "logs" / "stdout.log").read_text()  # access log on stdout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_missing_fields_exit_2_with_one_line_per_problem(tmp_path):
    config = tmp_path / "bad.config"
    config.write_text("HOST=127.0.0.1\nPORT=notaport\n")
    result = run_cli([f"configfile={config}"], tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert any(":2:" in line and "PORT" in line for line in lines), result.stderr
    for field in ("SOCKET_BACKLOG", "APP", "DOMAIN"):
        assert any(field in line for line in lines), (field, result.stderr)
    assert "Traceback" not in result.stderr


def test_missing_config_file_exit_2(tmp_path):
    result = run_cli(["--config", "nope.config"], tmp_path)
    assert result.returncode == 2 and "config file not found" in result.stderr


def test_check_config(tmp_path):
    good = tmp_path / "good.config"
    good.write_text("HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=10\nAPP=x.wsgi\nDOMAIN=localhost\n")
    result = run_cli(["--check-config", "--config", str(good)], tmp_path)
    assert result.returncode == 0 and "OK" in result.stdout
    bad = tmp_path / "bad.config"
    bad.write_text("HOST=127.0.0.1\n")
    result = run_cli(["--check-config", f"configfile={bad}"], tmp_path)
    assert result.returncode == 2 and "PORT" in result.stdout


def test_help_and_version(tmp_path):
    result = run_cli(["--help"], tmp_path)
    assert result.returncode == 0 and "--check-config" in result.stdout and "configfile=PATH" in result.stdout
    result = run_cli(["--version"], tmp_path)
    assert result.returncode == 0 and "Server_3_free_threads" in result.stdout


def test_bad_arguments_exit_2(tmp_path):
    assert run_cli(["nonsense"], tmp_path).returncode == 2
    assert run_cli(["--port", "99999"], tmp_path).returncode == 2


def start_failing(tmp_path, config_text, files=None, extra_args=()):
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = tmp_path / "s.config"
    config.write_text(config_text)
    proc, control = launch(tmp_path, tmp_path / "logs", ["--config", str(config), *extra_args])
    code = proc.wait(20)
    messages = control_messages(control)
    control.close()
    return code, messages, (tmp_path / "logs" / "stderr.log").read_text()


BASE = "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=10\nDOMAIN=localhost\n"


def test_config_invalid_on_the_control_channel(tmp_path):
    code, messages, _ = start_failing(tmp_path, BASE + "APP=x\nAPP_THREADS=lots\n")
    assert code == 2
    error = messages[-1]
    assert error["type"] == "error" and error["kind"] == "config-invalid"
    assert error["file"].endswith("s.config") and error["line"] == 6


def test_missing_app_module_exit_3(tmp_path):
    code, messages, stderr = start_failing(tmp_path, BASE + "APP=nosuch.wsgi\n")
    assert code == 3
    assert messages[-1]["kind"] == "app-import" and "nosuch" in messages[-1]["message"]
    assert "APP is a dotted path" in stderr


def test_app_syntax_error_points_at_the_users_file(tmp_path):
    files = {
        "mypkg/__init__.py": "",
        "mypkg/wsgi.py": "import os\n\ndef application(environ, start_response:\n",
    }
    code, messages, stderr = start_failing(tmp_path, BASE + "APP=mypkg.wsgi\n", files)
    assert code == 3
    error = messages[-1]
    assert error["kind"] == "app-import"
    assert error["file"] == str(tmp_path / "mypkg" / "wsgi.py") and error["line"] == 3
    assert "SyntaxError" in error["traceback"]


def test_app_raising_at_import_points_at_the_deepest_user_frame(tmp_path):
    files = {
        "helper.py": "def boom():\n    raise ValueError('bad setting')\n",
        "app.py": "import helper\n\nhelper.boom()\n",
    }
    code, messages, _ = start_failing(tmp_path, BASE + "APP=app\n", files)
    assert code == 3
    error = messages[-1]
    assert error["file"] == str(tmp_path / "helper.py") and error["line"] == 2
    assert "bad setting" in error["message"]


def test_missing_callable_names_the_alternatives(tmp_path):
    files = {"app.py": "def app(environ, start_response):\n    pass\n"}
    code, messages, _ = start_failing(tmp_path, BASE + "APP=app\n", files)
    assert code == 3 and "APP_CALLABLE" in messages[-1]["message"] and "app" in messages[-1]["message"]


def test_port_in_use_exit_4(tmp_path):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        files = {"app.py": "def application(e, s):\n    s('200 OK', [])\n    return []\n"}
        code, messages, stderr = start_failing(tmp_path, BASE + "APP=app\n", files, ("--port", str(port)))
    finally:
        blocker.close()
    assert code == 4
    assert messages[-1]["kind"] == "port-in-use" and str(port) in messages[-1]["message"]


def test_ready_message_and_port_override(server_factory):
    server = server_factory()
    ready = server.ready
    assert ready["type"] == "ready" and ready["host"] == "127.0.0.1" and ready["port"] > 0
    assert ready["url"] == f"http://127.0.0.1:{ready['port']}"
    assert ready["pid"] == server.proc.pid
    assert ready["python"].count(".") == 2 and isinstance(ready["gil"], bool)
    assert ready["threads"] == ["accept", "read", "app-1", "app-2", "app-3", "app-4", "close"]
    assert ready["workers"] == 1


def test_control_eof_stops_the_server_gracefully(server_factory):
    server = server_factory()
    server.control.close()  # the supervisor died
    assert server.wait(15) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_test_mode_without_config(tmp_path):
    proc, control = launch(tmp_path, tmp_path / "logs", ["--port", "0"])
    try:
        control.settimeout(10)
        ready = json.loads(control.recv(65536).splitlines()[0])
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", ready["port"], timeout=5)
        conn.request("GET", "/")
        assert b"Test page" in conn.getresponse().read()
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        control.close()


def test_app_threads_setting(server_factory):
    server = server_factory(config="APP_THREADS=2\n")
    assert server.ready["threads"] == ["accept", "read", "app-1", "app-2", "close"]


def test_start_server_helper_uses_the_given_workdir(tmp_path):
    (tmp_path / "tiny.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [environ['SERVER_NAME'].encode()]\n"
    )
    server = start_server(tmp_path, app="tiny", workdir=tmp_path)
    try:
        assert server.request("GET", "/")[2] == b"testserver.local"
    finally:
        server.kill()


GOOD_CONFIG = "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=10\nAPP=x.wsgi\nDOMAIN=localhost\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["--check-config", "good.config"],  # a user's first guess
        ["--check-config", "configfile=good.config"],
        ["--check-config", "--config", "good.config"],
        ["--config", "good.config", "--check-config"],
        ["--check-config=good.config"],
    ],
)
def test_check_config_takes_the_path_in_every_form(tmp_path, argv):
    (tmp_path / "good.config").write_text(GOOD_CONFIG)
    result = run_cli(argv, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{tmp_path}/good.config: OK"


def test_check_config_with_a_path_reports_the_problems_of_that_file(tmp_path):
    (tmp_path / "bad.config").write_text("HOST=127.0.0.1\nPORT=x\n")
    result = run_cli(["--check-config", "bad.config"], tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path}/bad.config:2: error: PORT: 'x' is not an integer" in result.stdout


def test_check_config_refuses_two_different_configs(tmp_path):
    result = run_cli(["--check-config", "a.config", "--config", "b.config"], tmp_path)
    assert result.returncode == 2
    assert "two config files given (--check-config PATH and --config)" in result.stderr
    same = run_cli(["--check-config", "a.config", "--config", "a.config"], tmp_path)
    assert "config file not found" in same.stderr  # the same file twice is one config


def test_check_config_without_a_config_says_how_to_give_one(tmp_path):
    for argv in (["--check-config"], ["--check-config", "configfile="]):
        result = run_cli(argv, tmp_path)
        assert result.returncode == 2
        assert "--check-config needs a config: --check-config PATH" in result.stdout + result.stderr


@pytest.mark.parametrize("check", [True, False])
def test_invalid_utf8_names_the_line_and_column(tmp_path, check):
    # "é" (2 bytes) before the bad byte: the column counts characters, not bytes.
    (tmp_path / "latin1.config").write_bytes(b"\xef\xbb\xbfHOST=127.0.0.1\nDOMAIN=caf\xc3\xa9\xff\n")
    argv = ["--check-config", "latin1.config"] if check else ["configfile=latin1.config"]
    result = run_cli(argv, tmp_path)
    assert result.returncode == 2
    expected = (
        f"{tmp_path}/latin1.config:2: error: not UTF-8 text: byte 0xff at column 12 of this line; "
        "save the file as UTF-8"
    )
    assert expected in result.stdout + result.stderr
    assert "codec" not in result.stderr and "Traceback" not in result.stderr


def test_a_missing_app_module_is_one_line_without_traceback(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "app.config").write_text(GOOD_CONFIG.replace("x.wsgi", "nosuch.wsgi"))
    result = run_cli(["--config", "site/app.config", "--port", "0"], tmp_path)
    assert result.returncode == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"cannot import APP=nosuch.wsgi: no module nosuch in {tmp_path} or {tmp_path}/site "
        "(looked for nosuch/wsgi.py; APP is a dotted path relative to the folder the server runs in, "
        "e.g. mypkg.wsgi for mypkg/wsgi.py)"
    ]


def test_a_missing_app_module_names_its_folder_once(tmp_path):
    (tmp_path / "app.config").write_text(GOOD_CONFIG.replace("x.wsgi", "nosuch"))
    result = run_cli(["--config", "app.config", "--port", "0"], tmp_path)
    assert result.returncode == 3
    assert result.stderr.count(str(tmp_path)) == 1, result.stderr
    assert "no module nosuch in " in result.stderr


def test_a_module_missing_inside_the_app_keeps_its_traceback(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "__init__.py").write_text("")
    (tmp_path / "mine" / "wsgi.py").write_text("import mine_helpers_that_do_not_exist\n")
    (tmp_path / "app.config").write_text(GOOD_CONFIG.replace("x.wsgi", "mine.wsgi"))
    result = run_cli(["--config", "app.config", "--port", "0"], tmp_path)
    assert result.returncode == 3
    assert "importing APP=mine.wsgi failed: No module named 'mine_helpers_that_do_not_exist'" in result.stderr
    assert 'mine/wsgi.py", line 1' in result.stderr  # the user's line, to jump to


@pytest.mark.parametrize(
    ("argv", "config"),
    [
        (["--check-config", "a.config"], "a.config"),
        (["--check-config", "--config", "a.config"], "a.config"),
        (["--config", "a.config", "--check-config"], "a.config"),
        (["--check-config", "configfile=a.config"], "a.config"),
        (["--check-config", "odd=name.config"], "odd=name.config"),  # only configfile= is the 0.2.x form
    ],
)
def test_check_config_command_lines_parse_without_argparse(argv, config):
    code = (
        "import sys\n"
        "from Server_3_free_threads import cli\n"
        f"args = cli.parse_args({argv!r})\n"
        "print(args.config, args.check_config, 'argparse' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == [config, "True", "False"]


def test_an_unexpected_error_without_control_channel_exits_1(monkeypatch, capsys):
    from Server_3_free_threads import cli, contract, startup

    def fail(args, control):
        raise RuntimeError("boom")

    monkeypatch.setattr(startup, "run", fail)
    assert cli.main(["--config", "x.config"]) == contract.EXIT["other"]
    assert "unexpected error: boom" in capsys.readouterr().err


def test_a_startup_error_carries_its_exit_code_kind_and_message_from_the_schema():
    from Server_3_free_threads import contract
    from Server_3_free_threads.lifecycle import StartupError

    error = StartupError("addressInUse", ["first line", "second line"], file="/w/.config_server", line=3)
    assert str(error) == "first line"
    assert (error.exit_code, error.kind) == (contract.EXIT["addressInUse"], "port-in-use")
    assert error.message_dict() == {
        "type": "error",
        "kind": "port-in-use",
        "message": "first line",
        "file": "/w/.config_server",
        "line": 3,
    }
    bare = StartupError("other", [])
    assert str(bare) == bare.message_dict()["message"] == "other"
    assert "file" not in StartupError("appImport", ["x"], line=7).message_dict()  # a line needs its file


def test_a_port_can_be_bound_again_at_once_after_the_server_closed_its_connections():
    """SO_REUSEADDR: a restarted server binds its port while the connections it closed sit in TIME_WAIT."""
    from Server_3_free_threads.lifecycle import bind

    listener = bind("127.0.0.1", 0, 8)
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn, _ = listener.accept()
    conn.close()  # the server closes first: its side of the connection goes to TIME_WAIT
    assert client.recv(1) == b""
    client.close()
    listener.close()
    again = bind("127.0.0.1", port, 8)
    assert again.getsockname()[1] == port
    again.close()

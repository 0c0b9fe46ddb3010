"""Idle memory: the hand-written replacements for heavy stdlib helpers give the same bytes as the originals,
and starting the runtime does not import the modules they replaced (see DESIGN.md, "Idle memory")."""

import random
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import PurePosixPath
from urllib.parse import unquote_to_bytes as stdlib_unquote_to_bytes

from conftest import server_env
from Server_3_free_threads import cli
from Server_3_free_threads.config import path_text
from Server_3_free_threads.parser import unquote_to_bytes
from Server_3_free_threads.response import date_header, http_date


def test_http_date_matches_email_utils_formatdate():
    rng = random.Random(1)
    stamps = [0, 1, 59, 60, 86399, 86400, 951782400, 951868800, 2147483647, 4102444800, int(time.time())]
    stamps += [rng.randrange(0, 2**33) for _ in range(20000)]
    for stamp in stamps:
        assert http_date(stamp) == formatdate(stamp, usegmt=True), stamp


def test_date_header_is_formatdate_of_now():
    before = int(time.time())
    header = date_header()
    after = int(time.time())
    assert header in {f"Date: {formatdate(t, usegmt=True)}\r\n".encode() for t in range(before, after + 1)}


def test_unquote_to_bytes_matches_urllib():
    rng = random.Random(2)
    cases = [
        b"",
        b"%",
        b"%%",
        b"%2",
        b"%2F",
        b"%2f%",
        b"a%zz",
        b"%%41",
        b"%4%41",
        b"/a%20b/%E2%82%AC",
        b"%x41",
    ]
    alphabet = b"%%%0123456789abcdefABCDEFgG/ z\xff"
    for _ in range(20000):
        cases.append(bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))))
    for case in cases:
        assert unquote_to_bytes(case) == stdlib_unquote_to_bytes(case), case


HEAVY = (
    "email.utils",
    "tempfile",
    "encodings.idna",
    "dataclasses",
    "pathlib",
    "typing",
    "urllib.parse",
    "platform",
    "sysconfig",
    "logging",
    "argparse",
)


def test_startup_does_not_import_heavy_helpers():
    code = (
        "import sys\n"
        "import Server_3_free_threads.cli, Server_3_free_threads.startup, Server_3_free_threads.server\n"
        "from Server_3_free_threads.lifecycle import bind\n"
        "bind('localhost', 0, 8).close()\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == []


def test_the_workers_master_imports_neither_heavy_helpers_nor_the_pipeline():
    """The WORKERS master shares its life cycle with the server (lifecycle.py) and reserves the port the same
    way, without the pipeline's modules (its workers run those) or what the server avoids."""
    code = (
        "import sys\n"
        "import Server_3_free_threads.cli, Server_3_free_threads.startup, Server_3_free_threads.workers\n"
        "from Server_3_free_threads.lifecycle import bind\n"
        "bind('localhost', 0, reuse_port=True).close()\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "pipeline = ('server', 'accept_thread', 'read_thread', 'app_thread', 'close_thread', 'parser')\n"
        "print(' '.join(heavy + [m for m in pipeline if 'Server_3_free_threads.' + m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == []


def test_path_text_matches_pure_posix_path():
    rng = random.Random(3)
    cases = [
        "",
        ".",
        "/",
        "//",
        "///",
        "//a",
        "///a",
        "a/",
        "./a/./b/",
        "a//b",
        "/a/../b",
        "..",
        "~/x",
        "a/.b",
    ]
    for _ in range(20000):
        cases.append(
            "".join(rng.choice(["/", "/", ".", "..", "a", "b c", "-"]) for _ in range(rng.randrange(8)))
        )
    for case in cases:
        assert path_text(case) == str(PurePosixPath(case)), case
        assert path_text(PurePosixPath(case)) == str(PurePosixPath(case)), case


def _outcome(parse, argv):
    try:
        return vars(parse(argv))
    except SystemExit as error:
        return ("exit", error.code)


def test_common_command_lines_parse_as_with_argparse(monkeypatch, capsys):
    tokens = [
        "--config",
        "-c",
        "--port",
        "--control-fd",
        "--worker-index",
        "--check-config",
        "--conf",
        "--help",
    ]
    tokens += [
        "configfile=a",
        "configfile=b",
        "Configfile=a",
        "x",
        "a",
        "b",
        "3",
        "8000",
        "99999",
        "-5",
        "",
        "--",
    ]
    tokens += ["--port=5", "+5", " 5", "٣", "--version", "-"]
    rng = random.Random(4)
    argvs = [[], ["--config", "a", "--control-fd", "3"], ["configfile=a"], ["--check-config", "configfile=a"]]
    argvs += [[rng.choice(tokens) for _ in range(rng.randrange(7))] for _ in range(3000)]
    fast = [_outcome(cli.parse_args, argv) for argv in argvs]
    used_fast = sum(cli._parse_common(argv) is not None for argv in argvs)
    monkeypatch.setattr(cli, "_parse_common", lambda argv: None)
    for argv, outcome in zip(argvs, fast, strict=True):
        assert outcome == _outcome(cli.parse_args, argv), argv
    capsys.readouterr()
    assert used_fast > 100


def test_common_command_line_does_not_import_argparse():
    code = (
        "import sys\n"
        "from Server_3_free_threads import cli\n"
        "args = cli.parse_args(['--config', 'a', '--port', '0', '--control-fd', '3'])\n"
        "assert (args.config, args.port, args.control_fd) == ('a', 0, 3)\n"
        "print('argparse' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=server_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split() == ["False"]


def test_python_version_is_platforms():
    import platform

    from Server_3_free_threads.lifecycle import python_version

    assert python_version() == platform.python_version()


def test_server_log_lines_match_logging():
    import io
    import logging
    import re

    from Server_3_free_threads.logs import INFO, ServerLog

    ours, theirs = io.StringIO(), io.StringIO()
    log = ServerLog("server3-test")
    log._stream = ours
    log.setLevel(INFO)
    reference = logging.getLogger("server3-reference")
    handler = logging.StreamHandler(theirs)
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s"))
    reference.addHandler(handler)
    reference.propagate = False
    reference.setLevel(logging.INFO)
    calls = [
        ("debug", "not shown %s", ("x",)),
        ("info", "listening on %s (Python %s, threads: %s%s)", ("http://h:1", "3.11", "a, b", "")),
        ("warning", "plain, 100%% sure", ()),
        ("warning", "no args: 100% kept", ()),
        ("error", "app error on %s %s:\n%s", ("GET", "/x", "Traceback ...\nValueError: é")),
        ("error", "%d lines dropped", (3,)),
    ]
    for name, msg, args in calls:
        getattr(log, name)(msg, *args)
        getattr(reference, name)(msg, *args)
    stamp = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3}\] ", re.MULTILINE)
    assert len(stamp.findall(ours.getvalue())) == len(calls) - 1
    assert stamp.sub("[T] ", ours.getvalue()) == stamp.sub("[T] ", theirs.getvalue())
    first_ours, first_theirs = stamp.findall(ours.getvalue())[0], stamp.findall(theirs.getvalue())[0]
    assert (
        abs(
            time.mktime(time.strptime(first_ours, "%Y-%m-%d %H:%M:%S"))
            - time.mktime(time.strptime(first_theirs, "%Y-%m-%d %H:%M:%S"))
        )
        <= 1
    )


def test_server_log_before_setup_writes_bare_warnings(capsys):
    from Server_3_free_threads.logs import ServerLog

    log = ServerLog("server3-test")
    log.info("hidden")
    log.warning("shown %s", 1)
    log.error("also shown")
    assert capsys.readouterr().err == "shown 1\nalso shown\n"

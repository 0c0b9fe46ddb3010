"""The config checks that need the file system (APP's module, its callable, somaxconn) and load_config()."""

from __future__ import annotations

from pathlib import Path

import pytest
from Server_3_free_threads import config
from Server_3_free_threads.config import ConfigError, load_config, parse_config_text

REPO = Path(__file__).resolve().parents[3]
OLD_EXAMPLE = "HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=messager.wsgi\nDOMAIN=localhost\n"


def codes(problems):
    return [(p.line, p.code, p.severity) for p in problems]


def write_app(tmp_path: Path, relative: str, source: str) -> None:
    target = tmp_path / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)


def test_old_example_only_warns_that_the_module_is_missing(tmp_path):
    _, problems = parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)
    assert codes(problems) == [(4, "module-not-found", "warning")]
    assert "messager/wsgi.py" in problems[0].message
    assert (problems[0].start, problems[0].end) == (4, 17)


def test_old_example_with_its_module_has_no_problem(tmp_path):
    write_app(tmp_path, "messager/wsgi.py", "def application(environ, start_response):\n    pass\n")
    assert parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)[1] == []


def test_package_module_counts(tmp_path):
    write_app(tmp_path, "messager/wsgi/__init__.py", "application = make_app()\n")
    assert parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)[1] == []


@pytest.mark.parametrize(
    "source",
    [
        "from django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        "class application:\n    pass\n",
        "from .app import application\n",
        "import something as application\n",
        "app = application = Flask(__name__)\n",
        "application: Callable = app\n",
    ],
)
def test_ways_to_define_application(tmp_path, source):
    write_app(tmp_path, "messager/wsgi.py", source)
    assert parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)[1] == []


@pytest.mark.parametrize(
    "source",
    ["app = Flask(__name__)\n", "    application = 1\n", "if application == 1:\n    pass\n", ""],
)
def test_module_without_application_warns(tmp_path, source):
    write_app(tmp_path, "messager/wsgi.py", source)
    _, problems = parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)
    assert codes(problems) == [(4, "no-application", "warning")]
    assert "APP_CALLABLE" in problems[0].message


def test_app_callable_names_the_callable(tmp_path):
    write_app(tmp_path, "messager/wsgi.py", "app = Flask(__name__)\n")
    _, problems = parse_config_text(OLD_EXAMPLE + "APP_CALLABLE=app\n", base_dir=tmp_path)
    assert problems == []


def test_the_hello_example_is_clean():
    path = REPO / "examples" / "hello" / ".config_server"
    settings = load_config(path)
    assert settings.warnings == []
    assert (settings.host, settings.port, settings.app) == ("127.0.0.1", 8000, "hello.wsgi")


def test_backlog_above_somaxconn_warns(tmp_path, monkeypatch):
    somaxconn = tmp_path / "somaxconn"
    somaxconn.write_text("4096\n")
    monkeypatch.setattr(config, "SOMAXCONN_PATH", somaxconn)
    write_app(tmp_path, "messager/wsgi.py", "application = 1\n")
    text = OLD_EXAMPLE.replace("SOCKET_BACKLOG=400", "SOCKET_BACKLOG=5000")
    _, problems = parse_config_text(text, base_dir=tmp_path)
    assert codes(problems) == [(3, "above-somaxconn", "warning")]
    assert "4096" in problems[0].message
    assert parse_config_text(text.replace("5000", "4096"), base_dir=tmp_path)[1] == []


def test_real_somaxconn_is_read():
    assert config.read_somaxconn() is None or config.read_somaxconn() > 0


def test_load_config_types_and_defaults(tmp_path):
    write_app(tmp_path, "messager/wsgi.py", "application = 1\n")
    path = tmp_path / ".config_server"
    path.write_text(OLD_EXAMPLE + "METRICS=off\nKEEPALIVE_TIMEOUT=2.5\nSTATS=127.0.0.1:9100\n")
    settings = load_config(path)
    assert settings.port == 8000 and settings.socket_backlog == 400
    assert settings.metrics is False
    assert settings.keepalive_timeout == 2.5
    assert settings.request_timeout == 30.0 and isinstance(settings.request_timeout, float)
    assert settings.app_threads == 4 and settings.app_callable == "application"
    assert settings.stats == "127.0.0.1:9100"
    assert settings.source == str(path)
    with pytest.raises(AttributeError):
        _ = settings.no_such_field


def test_load_config_raises_with_one_line_per_error(tmp_path):
    path = tmp_path / "bad.server3"
    path.write_text("HOST=127.0.0.1\nPORT=0\nSOCKET_BACKLOG=400\nAPP=x/y.py\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert lines == [
        f"{path}:1: error: missing required field DOMAIN: add a line DOMAIN=localhost",
        f"{path}:2: error: PORT: 0 is out of range; PORT must be an integer from 1 to 65535, e.g. PORT=8000",
        f"{path}:4: error: APP: 'x/y.py' is not a dotted module path: write it with dots and without .py, "
        "e.g. APP=x.y",
    ]
    assert caught.value.path == str(path)
    assert [p.code for p in caught.value.problems] == ["missing-required", "out-of-range", "bad-module"]


def test_load_config_keeps_warnings_without_raising(tmp_path):
    path = tmp_path / ".config_server"
    path.write_text("\ufeff" + OLD_EXAMPLE.replace("127.0.0.1", "0.0.0.0") + "PORT=9000\n")
    settings = load_config(path)
    assert settings.port == 9000  # the last value wins, as in the 0.2 parser
    assert [p.code for p in settings.warnings] == ["non-loopback-host", "duplicate-key", "module-not-found"]


def test_problem_format():
    problem = parse_config_text("PORT=x\n")[1][-1]
    assert problem.format("a/.config_server").startswith("a/.config_server:1: error: PORT: 'x'")
    assert problem.format().startswith("line 1: error: ")


def test_an_app_file_that_cannot_be_read_is_not_judged_and_does_not_raise(tmp_path, monkeypatch):
    # The tests run as root, for whom chmod 000 blocks nothing: the open() that fails is the module's own.
    write_app(tmp_path, "messager/wsgi.py", "nothing_here = 1\n")

    def unreadable(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(config, "open", unreadable, raising=False)
    assert parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)[1] == []  # no "does not define" guess, no crash
    monkeypatch.undo()
    assert codes(parse_config_text(OLD_EXAMPLE, base_dir=tmp_path)[1]) == [(4, "no-application", "warning")]


def test_problems_compare_by_their_fields():
    from Server_3_free_threads.config import Problem

    one = Problem(1, 0, 4, "error", "bad-integer", "PORT: 'x' is not an integer")
    assert one == Problem(1, 0, 4, "error", "bad-integer", "PORT: 'x' is not an integer")
    assert one != Problem(2, 0, 4, "error", "bad-integer", "PORT: 'x' is not an integer")
    assert hash(one) == hash(Problem(1, 0, 4, "error", "bad-integer", "PORT: 'x' is not an integer"))


def test_gunicorn_form_checks_the_module_and_the_callable_after_the_colon(tmp_path):
    text = OLD_EXAMPLE.replace("APP=messager.wsgi", "APP=messager.wsgi:app")
    _, problems = parse_config_text(text, base_dir=tmp_path)
    assert codes(problems) == [(4, "module-not-found", "warning")]
    assert (problems[0].start, problems[0].end) == (4, 17)  # the module part only
    write_app(tmp_path, "messager/wsgi.py", "application = make()\n")
    _, problems = parse_config_text(text, base_dir=tmp_path)
    assert codes(problems) == [(4, "no-application", "warning")]
    assert (problems[0].start, problems[0].end) == (18, 21)  # the callable after the colon
    assert "define the WSGI callable there or name another one after the colon" in problems[0].message
    write_app(tmp_path, "messager/wsgi.py", "app = Flask(__name__)\n")
    assert parse_config_text(text, base_dir=tmp_path)[1] == []


def test_gunicorn_form_fills_app_and_app_callable(tmp_path):
    text = OLD_EXAMPLE.replace("messager.wsgi", "site.wsgi:api") + "APP_CALLABLE=x\n"
    settings, _ = parse_config_text(text)
    assert (settings.app, settings.app_callable) == ("site.wsgi", "api")
    settings, _ = parse_config_text(OLD_EXAMPLE + "APP_CALLABLE=x\n")
    assert (settings.app, settings.app_callable) == ("messager.wsgi", "x")


def test_load_config_names_the_place_of_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "c.config"
    path.write_bytes(OLD_EXAMPLE.encode() + b"ACCESS_LOG=\xe9\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    (problem,) = raised.value.problems
    assert (problem.line, problem.start, problem.end, problem.code) == (6, 11, 12, "not-utf8")
    assert str(raised.value).startswith(f"{path}:6: error: not UTF-8 text: byte 0xe9 at column 12")


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (b"\xff", 1, 0),
        (b"A=1\n\xe2\x82", 2, 0),  # cut short at the end
        (b"A=\xe2\x82A\n", 1, 2),  # a bad continuation byte
        (b"\xef\xbb\xbfA=\xc3\xa9\xc0\x80", 1, 3),  # after a BOM and a 2-byte character; an overlong form
        (b"\n\xff", 2, 0),  # right after a line end at the very start
    ],
)
def test_decode_config_points_at_the_first_bad_byte(data, line, column):
    with pytest.raises(ConfigError) as raised:
        config.decode_config(data)
    (problem,) = raised.value.problems
    assert (problem.line, problem.start, problem.end) == (line, column, column + 1)


def test_decode_config_drops_a_bom():
    assert config.decode_config(b"\xef\xbb\xbfHOST=a\n") == "HOST=a\n"
    assert config.decode_config("DOMAIN=café".encode()) == "DOMAIN=café"


def test_suggest_value_rules():
    # The same word in another case, even where a start or a near spelling would be ambiguous.
    assert config.suggest_value("ON", ["on", "once"]) == "on"
    assert config.suggest_value("onc", ["on", "once"]) == "once"  # the one choice it starts
    assert config.suggest_value("oncx", ["on", "once"]) == "once"  # one letter off a 4-letter choice
    assert config.suggest_value("ox", ["on", "once"]) is None  # too short for either rule
    assert config.suggest_value("abcd", ["abce", "abcf"]) is None  # two choices as near: no guess

"""Where APP is imported from: the working directory first (the old package's rule), then the config's folder
(the VS Code extension runs the server in the workspace folder, and a config may sit in a subfolder)."""

from __future__ import annotations

import http.client
import textwrap

import pytest
from conftest import RunningServer, serve_config

APP_SOURCE = textwrap.dedent(
    """
    def application(environ, start_response):
        body = b"from " + __name__.encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    """
)


def _get(server: RunningServer) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _config(app: str) -> str:
    return f"HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=16\nAPP={app}\nDOMAIN=localhost\n"


def test_app_next_to_a_config_in_a_subfolder(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "site_app.py").write_text(APP_SOURCE)
    (site / ".config_server").write_text(_config("site_app"))
    server = serve_config(site / ".config_server", tmp_path, tmp_path / "logs")
    try:
        assert _get(server) == (200, b"from site_app")
    finally:
        server.kill()


def test_working_directory_wins_over_the_config_folder(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "same_name.py").write_text(APP_SOURCE.replace('b"from "', 'b"cwd "'))
    (site / "same_name.py").write_text(APP_SOURCE.replace('b"from "', 'b"config "'))
    (site / ".config_server").write_text(_config("same_name"))
    server = serve_config(site / ".config_server", tmp_path, tmp_path / "logs")
    try:
        assert _get(server) == (200, b"cwd same_name")
    finally:
        server.kill()


def test_gunicorn_form_names_the_callable_and_wins_over_app_callable(tmp_path):
    (tmp_path / "flaskish.py").write_text(APP_SOURCE.replace("def application", "def app"))
    config = tmp_path / ".config_server"
    config.write_text(_config("flaskish:app") + "APP_CALLABLE=application\n")
    server = serve_config(config, tmp_path, tmp_path / "logs")
    try:
        assert _get(server) == (200, b"from flaskish")
    finally:
        server.kill()


def test_load_app_splits_module_and_callable(tmp_path, monkeypatch):
    from Server_3_free_threads import app_loader

    (tmp_path / "split_here.py").write_text("def app(environ, start_response):\n    return []\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert app_loader.load_app("split_here:app").__name__ == "app"
    # An empty name after the colon (refused by the config's validation) keeps the given callable.
    with pytest.raises(app_loader.AppImportError, match="has no callable 'application'"):
        app_loader.load_app("split_here:", "application")

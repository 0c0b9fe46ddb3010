"""Names vulture (the dead-code check of `npm run lint`) cannot see used: called by the stdlib, a framework,
an app or pytest. One line each, saying who uses it; add a line only with such a reason."""

# ruff: noqa: B018 (bare names and attributes are what vulture reads here)
_ = None

_.isEnabledFor  # logs.ServerLog: the logging.Logger API an app may call on the server's log
_.debug  # logs.ServerLog: the same
_.pydev_do_not_trace  # stage.keep_out_of_the_debugger: read by debugpy (pydevd)
_.is_pydev_daemon_thread  # the same
_.address_family  # stats_http._IPv6Server: read by socketserver.TCPServer
_.server_version  # stats_http: the Server header of http.server's handler
_.do_GET  # stats_http: called by http.server's handler
_.do_HEAD  # the same
_.log_message  # stats_http: http.server's logging hook, silenced
_.daemon_threads  # stats_http: read by socketserver.ThreadingMixIn
_.application  # testpage and the test apps: the WSGI callable APP names
_.read1  # wsgi: wsgi.input is a file-like object; the app calls these
_.readline  # the same
_.readlines  # the same
_.readinto  # the same
_.readable  # the same
_.seekable  # the same
_.whence  # wsgi: io's seek(offset, whence) signature
_.pytest_terminal_summary  # tests/conftest.py: a pytest hook
_.exc  # bench: __exit__(self, *exc), the context manager protocol's signature
_.debugpy  # tests/test_debugger.py: pytest.importorskip skips the module when it is missing

"""From parsed arguments to a running server: config, app import, bind; each failure becomes a
`StartupError` (lifecycle.py) with its exit code, the lines to print, and the control-channel error message.
With WORKERS>1 the process becomes the master (workers.py) and never imports the pipeline (server.py)."""

from __future__ import annotations

import os

from . import app_loader, lifecycle, systemd
from .config import ConfigError, decode_config, parse_config_text, path_text
from .lifecycle import EXIT, StartupError
from .logs import LOG, setup_logging

TEST_MODE_CONFIG = (
    "HOST=127.0.0.1\nPORT=8888\nSOCKET_BACKLOG=200\nAPP=Server_3_free_threads.testpage\nDOMAIN=localhost\n"
)


# The file checks of APP that the app import answers for itself at startup.
APP_FILE_CODES = ("module-not-found", "no-application")


def read_settings(config: str | None):
    """(settings, absolute config path or None, problems). Raises StartupError for an unreadable file."""
    if config is None:
        settings, problems = parse_config_text(TEST_MODE_CONFIG)
        return settings, None, problems
    # Plain strings, spelt as pathlib would (config.path_text): pathlib costs ~0.6 MB of idle RSS.
    path = path_text(config)
    if not path.startswith("/"):
        path = path_text(os.path.join(os.getcwd(), path))
    try:
        with open(path, "rb") as file:
            text = decode_config(file.read(), path)
    except ConfigError as error:  # not UTF-8: the line and column of the first bad byte
        problem = error.problems[0]
        lines = [problem.format(path)]
        raise StartupError("configInvalid", lines, file=path, line=problem.line) from None
    except FileNotFoundError:
        raise StartupError(
            "configInvalid",
            [f"{path}: config file not found (give configfile=PATH relative to {os.getcwd()} or absolute)"],
            file=str(path),
        ) from None
    except OSError as error:
        raise StartupError(
            "configInvalid", [f"{path}: cannot read the config file: {error}"], file=str(path)
        ) from None
    settings, problems = parse_config_text(text, base_dir=os.path.dirname(path))
    settings.source = path
    return settings, path, problems


def run(args, control) -> int:
    if args.check_config and args.config is None:
        raise StartupError(
            "configInvalid", ["--check-config needs a config: --check-config PATH (or --config PATH)"]
        )
    settings, config_path, problems = read_settings(args.config)
    errors = [p for p in problems if p.severity == "error"]
    if args.check_config:
        for problem in problems:
            print(problem.format(config_path), flush=True)
        if not errors:
            print(f"{config_path}: OK", flush=True)
        return EXIT["configInvalid"] if errors else EXIT["clean"]
    for problem in problems:
        # Whether APP's module exists and defines its callable, the import below tells for sure, with one
        # message of its own: the same warning before it would say it twice.
        if problem.severity != "error" and problem.code not in APP_FILE_CODES:
            LOG.warning("%s", problem.format(config_path))
    if errors:
        first = errors[0]
        raise StartupError(
            "configInvalid", [p.format(config_path) for p in errors], file=config_path, line=first.line
        )
    setup_logging(settings.log_level)
    if config_path is None:
        LOG.info("no config given (configfile=PATH or --config PATH): test mode, serving a test page")

    port = args.port if args.port is not None else settings.port
    is_worker = args.worker_index is not None
    try:
        inherited = systemd.inherited_listener()
    except systemd.ListenFdError as error:
        raise StartupError("other", [f"{error}"]) from None
    if inherited is not None and not is_worker:
        LOG.info(
            "listening on the socket passed by the supervisor (LISTEN_FDS): %s; HOST, PORT and --port are "
            "not used",
            inherited.getsockname()[:2],
        )
    if settings.workers > 1 and not is_worker:
        from .workers import run_master

        return run_master(args, settings, config_path, port, control, inherited)

    try:
        app = app_loader.load_app(settings.app, settings.app_callable, app_loader.config_dir_of(settings))
    except app_loader.AppImportError as error:
        lines = [error.message]
        if error.traceback_text:
            lines.append(error.traceback_text.rstrip())
        raise StartupError("appImport", lines, error.traceback_text, error.file, error.line) from None

    listener = inherited
    if listener is None:
        listener = lifecycle.open_listener(settings.host, port, settings.socket_backlog, reuse_port=is_worker)
    return serve(args, settings, config_path, app, listener, control)


def serve(args, settings, config_path, app, listener, control) -> int:
    """The single server (or one WORKERS worker): the pipeline until a stop; returns the exit code."""
    from .server import Server

    is_worker = args.worker_index is not None

    server = Server(
        settings,
        app,
        listener,
        config_path=config_path,
        port_override=args.port,
        control=control,
        worker=args.worker_index or 0,
        workers=max(1, settings.workers),
    )
    if control is not None:
        control.snapshot = server.snapshot
        control.requests = server.requests_snapshot
        control.request_detail = server.request_detail
        control.on_eof = server.request_stop
        control.on_fatal = lambda text: server.stage_died("control", text)
    server.install_signal_handlers()
    server.start()
    stats = None
    if not is_worker:  # with WORKERS>1 the master serves STATS for all
        stats = lifecycle.start_stats(
            settings, lambda: [server.snapshot()], server.readiness, lambda: [server.requests_snapshot()]
        )
    server.log_startup()
    # STATS /ready answers 200 from now on and systemd (Type=notify) hears READY=1: before the supervisor's
    # ready line, so whoever reads that line finds /ready agreeing.
    server.mark_ready()
    lifecycle.announce_ready(control, server.ready_message())
    try:
        return server.serve_until_stopped()
    finally:
        if stats is not None:
            stats.stop()

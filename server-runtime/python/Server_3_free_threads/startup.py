"""From parsed arguments to a running server: config, app import, bind; each failure becomes a
`StartupError` with its exit code, the lines to print, and the control-channel error message."""

from __future__ import annotations

import os

from . import app_loader, systemd
from .config import ConfigError, decode_config, parse_config_text, path_text
from .logs import LOG, setup_logging
from .server import AddressInUse, Server, bind_listener

TEST_MODE_CONFIG = (
    "HOST=127.0.0.1\nPORT=8888\nSOCKET_BACKLOG=200\nAPP=Server_3_free_threads.testpage\nDOMAIN=localhost\n"
)


# The file checks of APP that the app import answers for itself at startup.
APP_FILE_CODES = ("module-not-found", "no-application")


class StartupError(Exception):
    def __init__(
        self,
        exit_code: int,
        kind: str,
        lines: list[str],
        traceback_text: str = "",
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(lines[0] if lines else kind)
        self.exit_code = exit_code
        self.kind = kind
        self.lines = lines
        self.traceback_text = traceback_text
        self.file = file
        self.line = line

    def message_dict(self) -> dict:
        message = {"type": "error", "kind": self.kind, "message": self.lines[0] if self.lines else self.kind}
        if self.traceback_text:
            message["traceback"] = self.traceback_text
        if self.file:
            message["file"] = self.file
            if self.line is not None:
                message["line"] = self.line
        return message


def read_settings(config: str | None, check_only: bool):
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
        raise StartupError(2, "config-invalid", lines, file=path, line=problem.line) from None
    except FileNotFoundError:
        raise StartupError(
            2,
            "config-invalid",
            [f"{path}: config file not found (give configfile=PATH relative to {os.getcwd()} or absolute)"],
            file=str(path),
        ) from None
    except OSError as error:
        raise StartupError(
            2, "config-invalid", [f"{path}: cannot read the config file: {error}"], file=str(path)
        ) from None
    settings, problems = parse_config_text(text, base_dir=os.path.dirname(path))
    settings.source = path
    return settings, path, problems


def run(args, control) -> int:
    if args.check_config and args.config is None:
        raise StartupError(
            2, "config-invalid", ["--check-config needs a config: --check-config PATH (or --config PATH)"]
        )
    settings, config_path, problems = read_settings(args.config, args.check_config)
    errors = [p for p in problems if p.severity == "error"]
    if args.check_config:
        for problem in problems:
            print(problem.format(config_path), flush=True)
        if not errors:
            print(f"{config_path}: OK", flush=True)
        return 2 if errors else 0
    for problem in problems:
        # Whether APP's module exists and defines its callable, the import below tells for sure, with one
        # message of its own: the same warning before it would say it twice.
        if problem.severity != "error" and problem.code not in APP_FILE_CODES:
            LOG.warning("%s", problem.format(config_path))
    if errors:
        first = errors[0]
        raise StartupError(
            2, "config-invalid", [p.format(config_path) for p in errors], file=config_path, line=first.line
        )
    setup_logging(settings.log_level)
    if config_path is None:
        LOG.info("no config given (configfile=PATH or --config PATH): test mode, serving a test page")

    port = args.port if args.port is not None else settings.port
    is_worker = args.worker_index is not None
    try:
        inherited = systemd.inherited_listener()
    except systemd.ListenFdError as error:
        raise StartupError(1, "other", [f"{error}"]) from None
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
        raise StartupError(3, "app-import", lines, error.traceback_text, error.file, error.line) from None

    try:
        listener = inherited
        if listener is None:
            listener = bind_listener(settings.host, port, settings.socket_backlog, reuse_port=is_worker)
    except AddressInUse as error:
        raise StartupError(
            4, "port-in-use", [f"{error}; free the port or set another PORT (or --port N)"]
        ) from None
    except OSError as error:
        raise StartupError(1, "other", [f"cannot listen on {settings.host}:{port}: {error}"]) from None

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
    stats = None
    if control is not None:
        control.snapshot = server.snapshot
        control.requests = server.requests_snapshot
        control.request_detail = server.request_detail
        control.on_eof = server.request_stop
        control.on_fatal = lambda text: server.stage_died("control", text)
    server.install_signal_handlers()
    server.start()
    if settings.stats and not is_worker:  # with WORKERS>1 the master serves STATS for all
        from .stats_http import StatsServer

        try:
            stats = StatsServer(
                settings.stats,
                lambda: [server.snapshot()],
                server.readiness,
                lambda: [server.requests_snapshot()],
            )
            stats.start()
        except (OSError, ValueError) as error:
            LOG.error("STATS=%s: cannot serve stats: %s", settings.stats, error)
    server.log_startup()
    # STATS /ready answers 200 from now on and systemd (Type=notify) hears READY=1: before the supervisor's
    # ready line, so whoever reads that line finds /ready agreeing.
    server.mark_ready()
    if control is not None:
        control.send(server.ready_message())
        control.start()
    try:
        return server.serve_until_stopped()
    finally:
        if stats is not None:
            stats.stop()

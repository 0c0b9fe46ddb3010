"""Command line of the runtime.

    python -m Server_3_free_threads configfile=PATH    (0.2.x form; PATH relative to the cwd or absolute)
    python -m Server_3_free_threads --config PATH [--port N] [--control-fd N]
    python -m Server_3_free_threads --check-config PATH     (print problems; exit 0 if valid, else 2;
                                                             --check-config --config PATH works too)
    python -m Server_3_free_threads --help | --version

Without any config, as 0.2.x did, it serves a built-in test page on 127.0.0.1:8888.

Exit codes: control_schema.json's `exitCodes` (contract.EXIT by name): 0 clean stop, 2 config invalid, 3 app
import failed, 4 address in use, 5 a pipeline thread died (the server cannot serve: restart it; see stage.py),
1 anything else.
With --control-fd N, startup failures are also reported on the control channel (see control.py).
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from . import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def build_arg_parser() -> argparse.ArgumentParser:
    import argparse  # see parse_args

    from .contract import SCHEMA

    codes = ", ".join(f"{e['code']} {e.get('kind', 'clean stop')}" for e in SCHEMA["exitCodes"])
    parser = argparse.ArgumentParser(
        prog="python -m Server_3_free_threads",
        description="A four-thread epoll WSGI server (stdlib only) with per-thread live metrics.",
        epilog=f"Exit codes: {codes}.",
    )
    parser.add_argument("legacy", nargs="*", metavar="configfile=PATH", help="config file (0.2.x form)")
    parser.add_argument("--config", "-c", metavar="PATH", help="config file (KEY=VALUE lines)")
    parser.add_argument(
        "--check-config",
        nargs="?",
        const=True,
        default=False,
        metavar="PATH",
        help="validate the config (PATH, or the one --config names) and exit (0 valid, 2 not)",
    )
    parser.add_argument("--port", type=int, metavar="N", help="listen on port N instead of the config's PORT")
    parser.add_argument(
        "--control-fd", type=int, metavar="N", help="inherited socket for the VS Code supervisor"
    )
    parser.add_argument("--version", action="version", version=f"Server_3_free_threads {__version__}")
    # internal: set by the WORKERS supervisor for its worker processes
    parser.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    return parser


# Options of the common command lines, which parse_args reads without argparse: importing argparse (with
# gettext, locale, shutil, bz2, lzma, ...) costs ~0.9 MB of RSS for the server's whole life.
_VALUE_OPTIONS = {"--config": "config", "-c": "config", "--port": "port", "--control-fd": "control_fd"}
_VALUE_OPTIONS["--worker-index"] = "worker_index"


def _parse_common(argv: list[str]) -> SimpleNamespace | None:
    """What argparse would make of argv, for command lines of exact option names with plain values and the
    positional arguments in one run; None for anything else (--help, --version, abbreviations,
    --opt=value, repeated options, values starting with -, errors), which goes to argparse."""
    values: dict = {"legacy": [], "config": None, "check_config": False, "port": None, "control_fd": None}
    values["worker_index"] = None
    seen = set()
    positional_runs = 0
    after_positional = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            if not after_positional:
                positional_runs += 1
                after_positional = True
            values["legacy"].append(arg)
            i += 1
            continue
        after_positional = False
        if arg == "--check-config":
            # `--check-config PATH` (a user's first guess) or a bare flag beside --config PATH.
            has_value = i + 1 < len(argv) and not argv[i + 1].startswith("-")
            if values["check_config"] is not False:
                return None  # given twice: argparse reports it
            values["check_config"] = argv[i + 1] if has_value else True
            i += 2 if has_value else 1
            continue
        dest = _VALUE_OPTIONS.get(arg)
        if dest is None or dest in seen or i + 1 == len(argv) or argv[i + 1].startswith("-"):
            return None
        seen.add(dest)
        value = argv[i + 1]
        if dest != "config":
            if not (value.isascii() and value.isdigit()):
                return None
            value = int(value)
        values[dest] = value
        i += 2
    if positional_runs > 1:
        return None
    return SimpleNamespace(**values)


def _settle(args) -> str | None:
    """Merges `configfile=` into args.config and checks --port, for both parsers. Returns the error argparse
    should report, or None (args.config is then set)."""
    config = args.config
    checked = args.check_config
    if isinstance(checked, str):  # --check-config PATH: PATH is the config (configfile=PATH works there too)
        args.check_config = True
        key, sep, value = checked.partition("=")
        path = value if sep and key.lower() == "configfile" else checked
        if not path:
            return "--check-config needs a config: --check-config PATH"
        if config and config != path:
            return "two config files given (--check-config PATH and --config)"
        config = path
    for item in args.legacy:
        key, sep, value = item.partition("=")
        if not (sep and key.lower() == "configfile" and value):
            return f"unexpected argument {item!r}: use configfile=PATH or --config PATH"
        if config and config != value:
            return "two config files given (configfile= and --config)"
        config = value
    if args.port is not None and not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a port (0-65535)"
    args.config = config
    return None


def parse_args(argv: list[str]) -> argparse.Namespace | SimpleNamespace:
    args = _parse_common(argv)
    if args is not None and _settle(args) is None:
        return args
    parser = build_arg_parser()  # anything unusual or wrong: argparse parses again and reports
    args = parser.parse_args(argv)
    error = _settle(args)
    if error:
        parser.error(error)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from .lifecycle import EXIT, StartupError, error_message
    from .logs import LOG, setup_logging
    from .startup import run

    setup_logging("info")
    control = None
    if args.control_fd is not None:
        from .control import ControlChannel

        try:
            control = ControlChannel(args.control_fd)
        except OSError as error:
            LOG.error("--control-fd %s is not usable: %s", args.control_fd, error)
            return EXIT["other"]
    try:
        return run(args, control)
    except StartupError as error:
        for line in error.lines:
            print(line, file=sys.stderr, flush=True)
        if control is not None:
            control.send(error.message_dict())
        return error.exit_code
    except KeyboardInterrupt:
        return EXIT["clean"]
    except Exception as error:
        import traceback  # only here: see parse_args

        text = traceback.format_exc()
        LOG.error("unexpected error: %s\n%s", error, text)
        if control is not None:
            control.send(error_message("other", str(error) or type(error).__name__, text))
        return EXIT["other"]


if __name__ == "__main__":  # pragma: no cover
    os._exit(main())

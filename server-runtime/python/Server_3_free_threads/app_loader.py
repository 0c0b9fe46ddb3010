"""Imports the user's WSGI app (APP=module.path, APP_CALLABLE=name, or gunicorn's APP=module.path:name) with
the working directory on sys.path, and turns import failures into one actionable line plus the place in the
user's code to jump to."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

_OWN_DIR = os.path.dirname(os.path.abspath(__file__))
_library_dirs: tuple[str, ...] | None = None


def _get_library_dirs() -> tuple[str, ...]:
    """The stdlib and site-packages folders, found on the first import error: sysconfig and its data cost
    ~0.2 MB of idle RSS."""
    global _library_dirs
    if _library_dirs is None:
        import sysconfig

        paths = sysconfig.get_paths()
        keys = ("stdlib", "platstdlib", "purelib", "platlib")
        _library_dirs = tuple(os.path.realpath(p) + os.sep for p in {paths.get(k) for k in keys} if p)
    return _library_dirs


class AppImportError(Exception):
    def __init__(
        self, message: str, traceback_text: str = "", file: str | None = None, line: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.traceback_text = traceback_text
        self.file = file
        self.line = line


def _is_user_file(filename: str) -> bool:
    if not filename or filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    return not path.startswith(_OWN_DIR + os.sep) and not path.startswith(_get_library_dirs())


def _format_exc() -> str:
    import traceback  # only when an import fails (traceback pulls linecache, tokenize, textwrap, ...)

    return traceback.format_exc()


def _deepest_user_frame(error: BaseException) -> tuple[str | None, int | None]:
    import traceback

    file = line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if _is_user_file(frame.filename):
            file, line = os.path.abspath(frame.filename), frame.lineno
    if isinstance(error, SyntaxError) and error.filename and _is_user_file(error.filename):
        file, line = os.path.abspath(error.filename), error.lineno
    return file, line


def ensure_cwd_on_path(config_dir: str | None = None) -> None:
    """The working directory goes first on sys.path, as in the old package (`APP=mypkg.wsgi` is
    `./mypkg/wsgi.py`). The config file's folder comes right after it: the VS Code extension runs the server
    in the workspace folder, and a config kept in a subfolder next to its app must still find it (the
    language server resolves APP against both folders too)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    if config_dir:
        config_dir = os.path.abspath(config_dir)
        if os.path.realpath(config_dir) != os.path.realpath(cwd) and config_dir not in sys.path:
            sys.path.insert(1, config_dir)


def config_dir_of(settings) -> str | None:
    """The folder of the config file the settings came from (None in test mode, without a config)."""
    source = getattr(settings, "source", None)
    return os.path.dirname(os.path.abspath(source)) if source else None


def forget_user_modules() -> None:
    """Drops the user's modules (those under the working directory) from sys.modules, for a reload."""
    cwd = os.path.realpath(os.getcwd()) + os.sep
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if filename and os.path.realpath(filename).startswith(cwd) and _is_user_file(filename):
            del sys.modules[name]
            # The bytecode cache is validated by mtime in whole seconds and size: an edit within the same
            # second keeping the size would load stale code. Drop it; the import writes a fresh one.
            try:
                os.remove(importlib.util.cache_from_source(filename))
            except (OSError, ValueError, NotImplementedError):
                pass


def _search_dirs(config_dir: str | None) -> str:
    """The folders APP is looked up in, each once (the config's folder is often the working directory)."""
    cwd = os.getcwd()
    if config_dir and os.path.realpath(config_dir) != os.path.realpath(cwd):
        return f"{cwd} or {os.path.abspath(config_dir)}"
    return cwd


def _is_app_module(module_name: str, missing: str | None) -> bool:
    """Whether the module that is missing is APP itself or one of its packages (`a` or `a.b` of `a.b.c`),
    rather than something APP's code imports."""
    return bool(missing) and (module_name == missing or module_name.startswith(missing + "."))


def load_app(module_name: str, callable_name: str = "application", config_dir: str | None = None):
    # gunicorn's form, APP=module:callable, names the callable itself (config.py splits it the same way).
    module_name, colon, named = module_name.partition(":")
    if colon and named:
        callable_name = named
    ensure_cwd_on_path(config_dir)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if _is_app_module(module_name, error.name):
            # The user's APP names no module: one line says where it was looked for. The traceback would
            # only show importlib's own frames.
            looked_for = module_name.replace(".", "/") + ".py"
            raise AppImportError(
                f"cannot import APP={module_name}: no module {error.name} in {_search_dirs(config_dir)} "
                f"(looked for {looked_for}; APP is a dotted path relative to the folder the server runs in, "
                "e.g. mypkg.wsgi for mypkg/wsgi.py)"
            ) from None
        file, line = _deepest_user_frame(error)
        raise AppImportError(
            f"importing APP={module_name} failed: {error}", _format_exc(), file, line
        ) from None
    except BaseException as error:  # noqa: B036 - SystemExit from user code must not kill the server silently
        if isinstance(error, KeyboardInterrupt):
            raise
        file, line = _deepest_user_frame(error)
        kind = type(error).__name__
        raise AppImportError(
            f"importing APP={module_name} failed: {kind}: {error}", _format_exc(), file, line
        ) from None
    app = getattr(module, callable_name, None)
    if app is None:
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise AppImportError(
            f"module {module_name} ({getattr(module, '__file__', '?')}) has no callable {callable_name!r}; "
            f"set APP_CALLABLE to one of: {', '.join(names) or '(none)'}",
            file=getattr(module, "__file__", None),
            line=1,
        )
    if not callable(app):
        raise AppImportError(f"{module_name}.{callable_name} is not callable (it is a {type(app).__name__})")
    return app

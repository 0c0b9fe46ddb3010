"""The servers under test: ours, the WSGI servers users would pick instead, nginx as the machine's ceiling.

Each entry says where the server comes from (a cached venv, a Debian binary, our source tree) and how
to launch it for one app at a given number of processes and app threads.
"Best config" rules, the same for everyone:
- processes via the server's own pre-fork/SO_REUSEPORT mode (servers that have none run only at 1 process);
- the same number of app threads for every threaded server (the workload decides how many);
- access logs off, listen backlog 2048, connection limits raised above the largest load.
"""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from venvs import BENCH, REPO, is_ready, python_for, python_info, venv_dir, venv_python

RUNTIME_DIR = REPO / "server-runtime" / "python"
OUR_PACKAGE = RUNTIME_DIR / "Server_3_free_threads"
BACKLOG = 2048


@dataclass(frozen=True)
class App:
    """A WSGI app: run from `cwd`, imported as `module`, whose WSGI callable is `callable`."""

    name: str
    cwd: Path
    module: str
    callable: str


APPS = {
    "hello": App("hello", REPO / "examples" / "hello", "hello.wsgi", "application"),
    "flask": App("flask", BENCH / "apps", "flask_hello", "app"),
}


@dataclass
class Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]


class Server:
    name = ""
    venv: str | None = None  # the .cache/bench/<venv> this server runs from, if any
    python: str | None = None  # the interpreter its venv is made from (None: venvs' default, see venvs.py)
    imports: tuple[str, ...] = ()  # what it imports (checked on free-threaded interpreters: GIL still off?)
    multi_process = True  # False: it has no multi-process mode, so it is measured at 1 process only
    apps = ("hello", "flask")  # apps it can serve
    peer = True  # False for ours; nginx is a ceiling, not a peer (see is_ceiling)
    is_ceiling = False

    def unavailable_reason(self) -> str:
        """Empty when the server can be launched now; otherwise why not (printed as the skip reason)."""
        if self.venv and not is_ready(self.venv, self.python):
            return f"venv {venv_dir(self.venv, self.python).relative_to(REPO)} is not installed"
        return ""

    def expected_gil(self) -> bool | None:
        """True/False when the server says in its log whether the GIL is on (ours), else None."""
        return None

    def supports(self, app: str, processes: int) -> str:
        """Empty when this server can run `app` at `processes`; otherwise why not."""
        if app not in self.apps:
            return f"does not run the {app} app"
        if processes > 1 and not self.multi_process:
            return "has no multi-process mode"
        return ""

    def supports_workload(self, path: str, script: str) -> str:
        """Empty when this server can answer this request shape; otherwise why not."""
        return ""

    def launch(self, app: App, port: int, processes: int, threads: int, scratch: Path) -> Launch:
        raise NotImplementedError

    def bin(self, name: str) -> str:
        return str(venv_dir(self.venv, self.python) / "bin" / name)


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(extra)
    return env


class Ours(Server):
    name = "ours"
    venv = "ours"
    peer = False
    imports = ("flask", "Server_3_free_threads.server")

    def __init__(
        self,
        metrics: str = "off",
        python: str | None = None,
        gil: str | None = None,
        name: str = "",
        config: str = "",
        env: dict | None = None,
    ):
        """`gil`: PYTHON_GIL for a free-threaded interpreter ("0" off, "1" on; None: the build's default).
        `config`: extra config lines (e.g. STATS=...), `env`: extra environment (e.g. PYTHONPERFSUPPORT)."""
        self.metrics = metrics
        self.python = python
        self.gil = gil
        self.name = name or self.name
        self.config = config
        self.env = env or {}

    def expected_gil(self) -> bool | None:
        if self.gil is not None:
            return self.gil != "0"
        return not python_info(python_for(self.python))["free_threaded"]

    def unavailable_reason(self) -> str:
        if not (OUR_PACKAGE / "__main__.py").is_file():
            return "runtime not written yet (no Server_3_free_threads/__main__.py)"
        return super().unavailable_reason()

    def launch(self, app, port, processes, threads, scratch):
        config = scratch / f"ours-{port}.config_server"
        config.write_text(
            "\n".join(
                [
                    "HOST=127.0.0.1",
                    f"PORT={port}",
                    f"SOCKET_BACKLOG={BACKLOG}",
                    f"APP={app.module}",
                    f"APP_CALLABLE={app.callable}",
                    "DOMAIN=localhost",
                    f"APP_THREADS={threads}",
                    f"WORKERS={processes}",
                    "ACCESS_LOG=off",
                    f"METRICS={self.metrics}",
                ]
            )
            + "\n"
            + self.config
        )
        argv = [
            str(venv_python(self.venv, self.python)),
            "-m",
            "Server_3_free_threads",
            "--config",
            str(config),
        ]
        env = _env(PYTHONPATH=str(RUNTIME_DIR), **self.env)
        if self.gil is not None:
            env["PYTHON_GIL"] = self.gil
        return Launch(argv, app.cwd, env)


class Gunicorn(Server):
    venv = "gunicorn"
    imports = ("flask", "gunicorn.app.wsgiapp", "gunicorn.workers.gthread")

    def __init__(self, worker_class: str):
        self.worker_class = worker_class
        self.name = f"gunicorn-{worker_class}"

    def launch(self, app, port, processes, threads, scratch):
        argv = [self.bin("gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(processes)]
        argv += ["--worker-class", self.worker_class, "--backlog", str(BACKLOG), "--log-level", "warning"]
        if self.worker_class == "gthread":
            argv += ["--threads", str(threads), "--worker-connections", "4096"]
        return Launch(argv + [f"{app.module}:{app.callable}"], app.cwd, _env())


class Waitress(Server):
    name = "waitress"
    venv = "waitress"
    imports = ("flask", "waitress")
    multi_process = False

    def launch(self, app, port, processes, threads, scratch):
        argv = [self.bin("waitress-serve"), f"--listen=127.0.0.1:{port}", f"--threads={threads}"]
        argv += [f"--backlog={BACKLOG}", "--connection-limit=4096", f"{app.module}:{app.callable}"]
        return Launch(argv, app.cwd, _env())


class Cheroot(Server):
    name = "cheroot"
    venv = "cheroot"
    imports = ("flask", "cheroot.wsgi", "cheroot.cli")
    multi_process = False

    def launch(self, app, port, processes, threads, scratch):
        argv = [self.bin("cheroot"), "--bind", f"127.0.0.1:{port}", "--chdir", str(app.cwd)]
        argv += ["--threads", str(threads), "--max-threads", str(threads)]
        argv += ["--request-queue-size", str(BACKLOG), f"{app.module}:{app.callable}"]
        # cheroot's --chdir does not put the app folder on sys.path.
        return Launch(argv, app.cwd, _env(PYTHONPATH=str(app.cwd)))


class Uwsgi(Server):
    name = "uwsgi"
    venv = "uwsgi"

    def launch(self, app, port, processes, threads, scratch):
        # --http11-socket is uWSGI's native HTTP socket with keep-alive (plain --http-socket closes every
        # connection after one response, which would not be its best config for keep-alive loads).
        argv = [self.bin("uwsgi"), "--http11-socket", f"127.0.0.1:{port}", "--chdir", str(app.cwd)]
        argv += ["--module", f"{app.module}:{app.callable}", "--master", "--processes", str(processes)]
        argv += ["--threads", str(threads), "--listen", str(BACKLOG), "--disable-logging", "--die-on-term"]
        argv += ["--need-app", "--buffer-size", "65535", "--post-buffering", "65536"]
        return Launch(argv, app.cwd, _env())


class Granian(Server):
    name = "granian"
    venv = "granian"

    def launch(self, app, port, processes, threads, scratch):
        argv = [self.bin("granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(processes), "--blocking-threads", str(threads), "--no-ws"]
        argv += ["--backlog", str(BACKLOG), "--log-level", "warning", "--no-access-log"]
        argv += ["--working-dir", str(app.cwd), f"{app.module}:{app.callable}"]
        return Launch(argv, app.cwd, _env())


class Bjoern(Server):
    name = "bjoern"
    venv = "bjoern"

    def launch(self, app, port, processes, threads, scratch):
        # bjoern has no CLI and is single-threaded by design: bench/peers/bjoern_serve.py forks its processes.
        argv = [
            str(venv_python(self.venv, self.python)),
            str(BENCH / "peers" / "bjoern_serve.py"),
            "--port",
            str(port),
        ]
        argv += ["--processes", str(processes), "--app", f"{app.module}:{app.callable}"]
        return Launch(argv, app.cwd, _env())


class Nginx(Server):
    name = "nginx"
    apps = ("hello",)
    peer = False
    is_ceiling = True

    def unavailable_reason(self) -> str:
        if not self._binary():
            return "nginx is not installed (apt-get install nginx)"
        return ""

    def _binary(self) -> str | None:
        return shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx") or None

    def supports(self, app, processes):
        return "" if app == "hello" else "is the ceiling for the hello route only (return 200)"

    def supports_workload(self, path: str, script: str) -> str:
        if path == "/" and script == "get":
            return ""
        return "is the ceiling for GET / only (return 200)"

    def launch(self, app, port, processes, threads, scratch):
        prefix = scratch / f"nginx-{port}"
        prefix.mkdir(parents=True, exist_ok=True)
        template = (BENCH / "peers" / "nginx.conf.template").read_text()
        conf = template.replace("@PROCESSES@", str(processes)).replace("@PORT@", str(port))
        conf = conf.replace("@PREFIX@", str(prefix)).replace("@BACKLOG@", str(BACKLOG))
        (prefix / "nginx.conf").write_text(conf)
        argv = [self._binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
        return Launch(argv + ["-g", "daemon off;"], prefix, _env())


def all_servers() -> list[Server]:
    return [
        Ours(),
        Gunicorn("sync"),
        Gunicorn("gthread"),
        Waitress(),
        Cheroot(),
        Uwsgi(),
        Granian(),
        Bjoern(),
        Nginx(),
    ]


def on_python(server: Server, python: str) -> Server:
    """The same server, run from venvs made by `python` (its venvs live apart: see venvs.py)."""
    server.python = python
    return server


def gil_compare_servers(ft_python: str, default_python: str, default_tag: str) -> list[Server]:
    """`bench.py --gil-compare`: ours on one free-threaded build with the GIL forced on (PYTHON_GIL=1) and off
    (PYTHON_GIL=0), ours on the default CPython for the cost per request, and the pure-Python peers that
    install on the free-threaded build, run there with its default (GIL off)."""
    return [
        Ours(python=ft_python, gil="0", name="ours-gil-off"),
        Ours(python=ft_python, gil="1", name="ours-gil-on"),
        Ours(python=default_python, name=f"ours-{default_tag}"),
        on_python(Gunicorn("gthread"), ft_python),
        on_python(Waitress(), ft_python),
        on_python(Cheroot(), ft_python),
    ]

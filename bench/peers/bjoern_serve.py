"""Runs a WSGI app on bjoern (which has no command line of its own) with N processes sharing one socket.

bjoern is single-threaded and event-driven: its multi-process mode is the classic pre-fork, which is what this
does: listen once, fork N-1 children, and every process runs the accept loop on the inherited socket.
"""

import argparse
import importlib
import os
import signal
import sys

import bjoern


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--app", required=True, help="module:callable, imported from the working directory")
    args = parser.parse_args()
    sys.path.insert(0, os.getcwd())
    module_name, callable_name = args.app.split(":")
    app = getattr(importlib.import_module(module_name), callable_name)

    bjoern.listen(app, "127.0.0.1", args.port, reuse_port=True)
    children = []
    for _ in range(args.processes - 1):
        pid = os.fork()
        if pid == 0:
            bjoern.run()
            return
        children.append(pid)

    def stop(signum, frame):
        for child in children:
            os.kill(child, signal.SIGTERM)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    bjoern.run()


if __name__ == "__main__":
    main()

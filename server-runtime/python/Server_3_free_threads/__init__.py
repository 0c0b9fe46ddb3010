"""Server_3_free_threads: a four-thread epoll WSGI server (stdlib only) with per-thread live metrics."""

__version__ = "0.3.0"

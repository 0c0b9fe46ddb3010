"""Why module-level caches shared by the app threads cost so much on a free-threaded CPython: the time of one
`dict.get` hit, by who stored the key and whether the key looked up is the stored object or only equal to it.

    ~/.cache/server3-free-threads/cpython-3.13t/bin/python3.13t bench/ft_dict_lookup.py
    python3 bench/ft_dict_lookup.py          # the same on the default CPython, for comparison

Our response.py caches status strings and header tuples in module dicts; Flask and Django make a new status
str per response, equal to the cached key but not the same object. See DESIGN.md "Free-threaded safety".
"""

import sys
import threading
import time

N = 20_000


def new_status(code: int) -> str:
    """A status string made at run time, as frameworks make theirs: equal to "200 OK", not the same object."""
    return str(code) + " OK"


def per_get_ns(cache: dict, make_key, in_thread: bool) -> float:
    out = []

    def work() -> None:
        get = cache.get
        started = time.perf_counter()
        for _ in range(N):
            get(make_key())
        out.append((time.perf_counter() - started) / N * 1e9)

    if in_thread:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    else:
        work()
    return out[0]


def main() -> None:
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}: ns per dict.get hit ({N} each)")
    stored_here = {"200 OK": 1}  # stored by this (main) thread, which stays alive
    same = "200 OK"
    cases = [
        ("same key object, other thread", stored_here, lambda: same, True),
        ("equal new str, storing thread", stored_here, lambda: new_status(200), False),
        ("equal new str, other thread", stored_here, lambda: new_status(200), True),
        (
            "equal new tuple, other thread",
            {("200 OK", "text/plain"): 1},
            lambda: (new_status(200), "text/plain"),
            True,
        ),
        ("miss, other thread", stored_here, lambda: new_status(201), True),
    ]
    for label, cache, make_key, in_thread in cases:
        print(f"  {label:32} {per_get_ns(cache, make_key, in_thread):9.0f}")


if __name__ == "__main__":
    main()

"""Hypothesis strategies over the structured mutations of mutations.py, shared by the fuzzing suites
(test_fuzz_parser.py: the parser in-process; test_fuzz_server.py: the running server through sockets).

Why Hypothesis and not Atheris: the suites run on both interpreters CI tests (CPython 3.11 and the
free-threaded 3.13t); Atheris has no free-threaded build and needs clang/libFuzzer to build, while Hypothesis
is pure Python (6.149.1 is the last release without a compiled part, so it installs on 3.13t too). A case is
drawn as plain integers (which seed stream, which mutations with which random seeds, how it is split), so a
failure shrinks to fewer mutations and earlier seeds, and the run is reproducible from the blob it prints.
Coverage guidance matters less here than structure: the interesting inputs are numbers of extreme lengths,
single bad bytes and framing headers in odd places.

A case: a seed stream (fuzz_corpus/*.http and http_fixtures/*.http), 0-4 mutations applied in order, and
the sizes of the pieces it is sent in (`cases`, mutations.build). Budgets (examples per test) are in
SERVER3_FUZZ_EXAMPLES_PARSER / _SERVER so CI keeps the run bounded and a long local run can go further; the
defaults fit about 15-30 s per suite on this 2-core machine.
"""

from __future__ import annotations

import os

from hypothesis import strategies as st
from mutations import CORPUS, MUTATIONS, build

__all__ = ["CASES", "MAX_BODY_SIZE", "MAX_HEADER_SIZE", "build", "cases", "examples"]

MAX_HEADER_SIZE = 8192
MAX_BODY_SIZE = 1 << 20


def examples(kind: str, default: int) -> int:
    return int(os.environ.get(f"SERVER3_FUZZ_EXAMPLES_{kind.upper()}", default))


# A case: (seed index, [(mutation index, its random seed), ...], split style, split seed)
cases = st.tuples(
    st.integers(0, len(CORPUS) - 1),
    st.lists(st.tuples(st.integers(0, len(MUTATIONS) - 1), st.integers(0, 2**32 - 1)), max_size=4),
    st.sampled_from(["whole", "bytes", "random"]),
    st.integers(0, 2**32 - 1),
)


# Cases run per suite in this session, printed at the end of the run (conftest.pytest_terminal_summary).
CASES = {"parser": 0, "server": 0}
